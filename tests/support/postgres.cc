#include "support/postgres.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

namespace charta::test {

namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct OptionsCloser {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

bool fail(std::string* error, const std::string& message) {
  if (error != nullptr) *error = message;
  return false;
}

// A conninfo value in single quotes, as libpq reads it.
std::string quoted(const char* value) {
  std::string out = "'";
  for (const char* p = value; *p != '\0'; ++p) {
    if (*p == '\'' || *p == '\\') out.push_back('\\');
    out.push_back(*p);
  }
  out.push_back('\'');
  return out;
}

// `conninfo` with dbname replaced.
bool withDatabase(const std::string& conninfo, const std::string& dbname, std::string* out,
                  std::string* error) {
  char* parseError = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsCloser> options(PQconninfoParse(conninfo.c_str(), &parseError));
  if (!options) {
    const std::string message = parseError != nullptr ? parseError : "out of memory";
    PQfreemem(parseError);
    return fail(error, "bad conninfo '" + conninfo + "': " + trimmed(message));
  }
  std::string result;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "dbname") continue;
    result += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  result += "dbname=" + quoted(dbname.c_str());
  *out = result;
  return true;
}

// The test cluster's conninfo (its superuser, database postgres), or "".
std::string clusterConninfo(std::string* error) {
  const char* stateDir = std::getenv("CHARTA_TEST_PG_STATE");
  if (stateDir == nullptr || *stateDir == '\0') {
    fail(error,
         "CHARTA_TEST_PG_STATE is not set: run this suite through ctest, which starts the "
         "PostgreSQL test cluster (fixture 'postgres', scripts/pg-cluster)");
    return {};
  }
  const std::string conninfoPath = std::string(stateDir) + "/conninfo";
  std::ifstream file(conninfoPath);
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string conninfo = trimmed(buffer.str());
  if (!file || conninfo.empty()) {
    fail(error, "no PostgreSQL test cluster: cannot read " + conninfoPath +
                    " (did postgres_cluster_start fail?)");
    return {};
  }
  return conninfo;
}

std::unique_ptr<PGconn, ConnCloser> connect(const std::string& conninfo, std::string* error) {
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdb(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    fail(error, "cannot connect to the PostgreSQL test cluster (" + conninfo +
                    "): " + (conn ? trimmed(PQerrorMessage(conn.get())) : std::string("out of memory")));
    return nullptr;
  }
  return conn;
}

bool exec(PGconn* conn, const std::string& sql, std::string* error) {
  std::unique_ptr<PGresult, ResultCloser> res(PQexec(conn, sql.c_str()));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK && PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    return fail(error, sql + " failed: " + trimmed(PQresultErrorMessage(res.get())));
  }
  return true;
}

std::string uniqueName() {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return "charta_test_" + std::to_string(::getpid()) + "_" +
         std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) + "_" +
         std::to_string(counter.fetch_add(1));
}

// A string literal for SQL.
std::string sqlLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// `location` names the folder of a new tablespace, or is empty.
std::string newDatabase(const std::string& location, std::string* error) {
  const std::string conninfo = clusterConninfo(error);
  if (conninfo.empty()) return {};
  auto conn = connect(conninfo, error);
  if (!conn) return {};
  const std::string name = uniqueName();
  std::string sql = "CREATE DATABASE " + name;
  if (!location.empty()) {
    if (!exec(conn.get(), "CREATE TABLESPACE " + name + " LOCATION " + sqlLiteral(location), error)) return {};
    sql += " TABLESPACE " + name;
  }
  if (!exec(conn.get(), sql, error)) return {};
  std::string result;
  if (!withDatabase(conninfo, name, &result, error)) return {};
  return result;
}

}  // namespace

std::string newPostgresDatabase(std::string* error) { return newDatabase({}, error); }

std::string newPostgresDatabaseIn(const std::string& location, std::string* error) {
  if (location.empty()) {
    fail(error, "newPostgresDatabaseIn: no tablespace folder given");
    return {};
  }
  return newDatabase(location, error);
}

bool dropPostgresDatabase(const std::string& conninfo, const std::string& location, std::string* error) {
  char* parseError = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsCloser> options(PQconninfoParse(conninfo.c_str(), &parseError));
  PQfreemem(parseError);
  std::string name;
  for (const PQconninfoOption* o = options ? options.get() : nullptr; o != nullptr && o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "dbname" && o->val != nullptr) name = o->val;
  }
  if (name.rfind("charta_test_", 0) != 0) return fail(error, "not a test database: '" + conninfo + "'");
  const std::string cluster = clusterConninfo(error);
  if (cluster.empty()) return false;
  auto conn = connect(cluster, error);
  if (!conn) return false;
  if (!exec(conn.get(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", error)) return false;
  if (location.empty()) return true;
  // The tablespace that newPostgresDatabaseIn made for it has the same name.
  return exec(conn.get(), "DROP TABLESPACE IF EXISTS " + name, error);
}

}  // namespace charta::test
