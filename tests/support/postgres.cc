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

}  // namespace

std::string newPostgresDatabase(std::string* error) {
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

  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdb(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    fail(error, "cannot connect to the PostgreSQL test cluster (" + conninfo +
                    "): " + (conn ? trimmed(PQerrorMessage(conn.get())) : std::string("out of memory")));
    return {};
  }

  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string name =
      "charta_test_" + std::to_string(::getpid()) + "_" +
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) + "_" +
      std::to_string(counter.fetch_add(1));
  const std::string sql = "CREATE DATABASE " + name;
  std::unique_ptr<PGresult, ResultCloser> res(PQexec(conn.get(), sql.c_str()));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    fail(error, "CREATE DATABASE " + name + " failed: " + trimmed(PQresultErrorMessage(res.get())));
    return {};
  }

  std::string result;
  if (!withDatabase(conninfo, name, &result, error)) return {};
  return result;
}

}  // namespace charta::test
