// The PostgreSQL backend: a pool of libpq connections opened when first
// needed, statements prepared once per connection (PQprepare), parameters as
// text (bytea as binary), results in text format decoded by column type, and
// queryMany as one pipeline (libpq 14+).
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "db.h"
#include "db_pool_internal.h"

namespace charta::server {

namespace {

// Type OIDs of the built-in types decoded to something other than text
// (fixed since PostgreSQL 7; libpq does not export pg_type.h).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr std::size_t kMaxCachedStatements = 256;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string trimmed(const char* text) {
  std::string s = text == nullptr ? std::string() : std::string(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

double parseDouble(std::string_view text) {
  if (text == "NaN") return std::nan("");
  if (text == "Infinity") return HUGE_VAL;
  if (text == "-Infinity") return -HUGE_VAL;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  (void)end;
  if (ec == std::errc::result_out_of_range) {
    // Beyond double's range (a huge numeric) or below its precision.
    const bool negative = !text.empty() && text.front() == '-';
    const std::size_t e = text.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < text.size() && text[e + 1] == '-';
    if (tiny) return negative ? -0.0 : 0.0;
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  return value;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea in hex output format ("\x0a1b..."); the session sets bytea_output.
Blob decodeBytea(std::string_view text) {
  Blob blob;
  if (!startsWith(text, "\\x")) {
    blob.bytes.assign(text);
    return blob;
  }
  text.remove_prefix(2);
  blob.bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    const int hi = hexDigit(text[i]);
    const int lo = hexDigit(text[i + 1]);
    blob.bytes.push_back(static_cast<char>((hi << 4) | lo));
  }
  return blob;
}

DbValue decodeValue(Oid type, std::string_view text) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      std::int64_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec == std::errc() && end == text.data() + text.size()) return value;
      return std::string(text);
    }
    case kBoolOid:
      return std::int64_t{text == "t" ? 1 : 0};
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return parseDouble(text);
    case kByteaOid:
      return decodeBytea(text);
    default:
      return std::string(text);
  }
}

// Parameters in libpq's shape. Text for everything but Blob (binary bytea):
// the server then infers each parameter's type from the statement.
class PgParams {
 public:
  Status encode(std::span<const DbValue> params) {
    if (params.size() > static_cast<std::size_t>(INT_MAX)) {
      return Status::invalidArgument("too many parameters");
    }
    m_storage.clear();
    m_storage.reserve(params.size());  // c_str() pointers stay put
    m_values.assign(params.size(), nullptr);
    m_lengths.assign(params.size(), 0);
    m_formats.assign(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const DbValue& v = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *n);
        (void)ec;
        m_values[i] = m_storage.emplace_back(buf, end).c_str();
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) {
          m_values[i] = "NaN";
        } else if (std::isinf(*d)) {
          m_values[i] = *d > 0 ? "Infinity" : "-Infinity";
        } else {
          char buf[64];
          const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);  // shortest exact
          (void)ec;
          m_values[i] = m_storage.emplace_back(buf, end).c_str();
        }
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        if (s->find('\0') != std::string::npos) {
          return Status::invalidArgument("text parameter $" + std::to_string(i + 1) +
                                         " holds a NUL byte (bytes go in a Blob)");
        }
        m_values[i] = s->c_str();
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        if (b->bytes.size() > static_cast<std::size_t>(INT_MAX)) {
          return Status::invalidArgument("blob parameter too large");
        }
        m_values[i] = b->bytes.data();  // never null, so an empty blob is not NULL
        m_lengths[i] = static_cast<int>(b->bytes.size());
        m_formats[i] = 1;
      }
      // NULL: a null pointer.
    }
    return Status::ok();
  }

  int count() const { return static_cast<int>(m_values.size()); }
  const char* const* values() const { return m_values.data(); }
  const int* lengths() const { return m_lengths.data(); }
  const int* formats() const { return m_formats.data(); }

 private:
  std::vector<std::string> m_storage;
  std::vector<const char*> m_values;
  std::vector<int> m_lengths;
  std::vector<int> m_formats;
};

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* conn) : m_conn(conn) {}
  ~PgConnection() override { PQfinish(m_conn); }

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo) {
    PGconn* raw = PQconnectdb(conninfo.c_str());
    if (raw == nullptr) return Status::ioError("cannot connect to PostgreSQL: out of memory");
    auto conn = std::make_unique<PgConnection>(raw);
    if (PQstatus(raw) != CONNECTION_OK) {
      return Status::ioError("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(raw)));
    }
    PQsetNoticeReceiver(raw, &PgConnection::onNotice, conn.get());
    // Exact doubles, bytea as hex, UTF-8 whatever the server's defaults.
    PgResult res(PQexec(raw,
                        "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
                        "SET client_encoding = 'UTF8'"));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return Status::ioError("cannot set up a PostgreSQL session: " +
                             trimmed(PQresultErrorMessage(res.get())));
    }
    return std::unique_ptr<Connection>(std::move(conn));
  }

  // Before a lease: reads what the server sent meanwhile. A terminated
  // backend says FATAL (seen by onNotice) and then closes the socket (seen
  // by libpq as CONNECTION_BAD).
  bool alive() {
    if (m_broken || PQstatus(m_conn) != CONNECTION_OK) return false;
    // Read (without waiting), parse (PQisBusy hands a FATAL to onNotice),
    // and read again to see an EOF behind it.
    if (PQconsumeInput(m_conn) == 0) return false;
    (void)PQisBusy(m_conn);
    if (m_broken || PQconsumeInput(m_conn) == 0 || PQstatus(m_conn) != CONNECTION_OK) return false;
    return PQtransactionStatus(m_conn) == PQTRANS_IDLE;
  }

  bool reusable() const {
    return !m_broken && PQstatus(m_conn) == CONNECTION_OK &&
           PQtransactionStatus(m_conn) == PQTRANS_IDLE && !m_inTxn;
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status exec(std::string_view sql, std::span<const DbValue> params) override {
    Result<std::vector<DbRow>> rows = query(sql, params);
    return rows.status();
  }

  Result<std::vector<DbRow>> query(std::string_view sql, std::span<const DbValue> params) override {
    Status s = usable();
    if (!s.isOk()) return s;
    Result<std::string> name = statementName(sql);
    if (!name.isOk()) return fail(name.status());
    PgParams p;
    s = p.encode(params);
    if (!s.isOk()) return fail(s);
    PgResult res(PQexecPrepared(m_conn, name.value().c_str(), p.count(), p.values(), p.lengths(),
                                p.formats(), 0));
    Result<std::vector<DbRow>> rows = readResult(res.get());
    if (!rows.isOk()) return fail(rows.status());
    return rows;
  }

  Result<std::vector<std::vector<DbRow>>> queryMany(
      std::string_view sql, std::span<const std::vector<DbValue>> paramRows) override {
    Status s = usable();
    if (!s.isOk()) return s;
    std::vector<std::vector<DbRow>> results;
    if (paramRows.empty()) return results;
    Result<std::string> name = statementName(sql);
    if (!name.isOk()) return fail(name.status());
    std::vector<PgParams> encoded(paramRows.size());
    for (std::size_t i = 0; i < paramRows.size(); ++i) {
      s = encoded[i].encode(paramRows[i]);
      if (!s.isOk()) return fail(s);
    }
    s = runPipeline(name.value(), encoded, &results);
    if (!s.isOk()) return fail(s);
    return results;
  }

  Status execScript(std::string_view sql) override {
    Status s = usable();
    if (!s.isOk()) return s;
    const std::string script(sql);
    if (script.find('\0') != std::string::npos) {
      return fail(Status::invalidArgument("script holds a NUL byte"));
    }
    PgResult res(PQexec(m_conn, script.c_str()));
    Result<std::vector<DbRow>> rows = readResult(res.get());
    return rows.isOk() ? Status::ok() : fail(rows.status());
  }

  Status begin(bool /*write*/) override {
    if (inTransaction()) return Status::invalidArgument("begin: a transaction is already open");
    Status s = usable();
    if (!s.isOk()) return s;
    s = simple("BEGIN");
    if (!s.isOk()) return s;
    m_inTxn = true;
    m_abort.reset();
    return s;
  }

  Status commit() override {
    if (!inTransaction()) return Status::invalidArgument("commit: no transaction is open");
    Status s;
    if (m_abort) {
      s = *m_abort;
    } else if (m_broken) {
      s = Status::ioError("PostgreSQL connection lost");
    } else {
      PgResult res(PQexec(m_conn, "COMMIT"));
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        s = errorOf(res.get());
      } else if (std::strcmp(PQcmdStatus(res.get()), "ROLLBACK") == 0) {
        s = Status::invalidArgument("commit: the transaction had failed and was rolled back");
      }
    }
    if (!m_broken && PQtransactionStatus(m_conn) != PQTRANS_IDLE) (void)simple("ROLLBACK");
    endTransaction();
    return s;
  }

  Status rollback() override {
    Status s;
    if (m_broken || PQstatus(m_conn) != CONNECTION_OK) {
      m_broken = true;
      s = Status::ioError("PostgreSQL connection lost");
    } else if (PQtransactionStatus(m_conn) != PQTRANS_IDLE) {
      s = simple("ROLLBACK");
    }
    endTransaction();
    return s;
  }

  bool inTransaction() const override {
    if (m_inTxn) return true;
    if (m_broken) return false;
    const PGTransactionStatusType t = PQtransactionStatus(m_conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
  }

 private:
  void endTransaction() {
    m_inTxn = false;
    m_abort.reset();
  }

  // Notices are dropped, except a FATAL or PANIC sent outside a query: the
  // server is about to close this connection.
  static void onNotice(void* self, const PGresult* res) {
    const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr &&
        (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0)) {
      static_cast<PgConnection*>(self)->m_broken = true;
    }
  }

  Status usable() const {
    if (m_abort) {
      return Status::invalidArgument(
          "the transaction was aborted by an earlier failed statement (" + m_abort->toString() +
          "); roll it back");
    }
    if (m_broken) return Status::ioError("PostgreSQL connection lost");
    return Status::ok();
  }

  // A failed statement inside a transaction aborts it (see db.h).
  Status fail(Status s) {
    if (inTransaction() && !m_abort) m_abort = s;
    return s;
  }

  // The error in `res` (or on the connection) as a Status; marks the
  // connection broken when it is.
  Status errorOf(const PGresult* res) {
    if (PQstatus(m_conn) != CONNECTION_OK) {
      m_broken = true;
      std::string message = trimmed(res != nullptr ? PQresultErrorMessage(res) : nullptr);
      if (message.empty()) message = trimmed(PQerrorMessage(m_conn));
      return Status::ioError("PostgreSQL connection lost: " + message);
    }
    if (res == nullptr) return Status::ioError("PostgreSQL: " + trimmed(PQerrorMessage(m_conn)));
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string code = state == nullptr ? std::string() : std::string(state);
    std::string message = trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    if (message.empty()) message = trimmed(PQresultErrorMessage(res));
    if (message.empty()) message = trimmed(PQerrorMessage(m_conn));
    const std::string detail = trimmed(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
    if (!detail.empty()) message += " (" + detail + ")";
    if (!code.empty()) message += " [SQLSTATE " + code + "]";
    if (code == "23505") return Status::alreadyExists(message);
    if (code == "40001" || code == "40P01") return Status::ioError("retryable: " + message);
    if (code == "53100") return dbStorageFull(message);  // disk_full: the transaction was refused
    // Resources, operator intervention, system and internal errors.
    if (startsWith(code, "53") || startsWith(code, "57") || startsWith(code, "58") ||
        startsWith(code, "XX")) {
      return Status::ioError(message);
    }
    return Status::invalidArgument(message);
  }

  Result<std::vector<DbRow>> readResult(const PGresult* res) {
    switch (PQresultStatus(res)) {
      case PGRES_TUPLES_OK:
        return decodeRows(res);
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        return std::vector<DbRow>();
      default:
        return errorOf(res);
    }
  }

  static std::vector<DbRow> decodeRows(const PGresult* res) {
    const int rowCount = PQntuples(res);
    const int columns = PQnfields(res);
    std::vector<Oid> types(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) types[static_cast<std::size_t>(c)] = PQftype(res, c);
    std::vector<DbRow> rows;
    rows.reserve(static_cast<std::size_t>(rowCount));
    for (int r = 0; r < rowCount; ++r) {
      DbRow row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res, r, c) != 0) {
          row.emplace_back(std::monostate{});
        } else {
          const std::string_view text(PQgetvalue(res, r, c),
                                      static_cast<std::size_t>(PQgetlength(res, r, c)));
          row.push_back(decodeValue(types[static_cast<std::size_t>(c)], text));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Runs a statement without parameters or results (BEGIN, ROLLBACK).
  Status simple(const char* sql) {
    PgResult res(PQexec(m_conn, sql));
    if (PQresultStatus(res.get()) == PGRES_COMMAND_OK) return Status::ok();
    return errorOf(res.get());
  }

  // The name of `sql`'s prepared statement on this connection.
  Result<std::string> statementName(std::string_view sql) {
    std::string key(sql);
    if (auto it = m_statements.find(key); it != m_statements.end()) return it->second;
    if (key.find('\0') != std::string::npos) return Status::invalidArgument("statement holds a NUL byte");
    if (m_statements.size() >= kMaxCachedStatements && PQtransactionStatus(m_conn) == PQTRANS_IDLE) {
      if (simple("DEALLOCATE ALL").isOk()) m_statements.clear();
    }
    std::string name = "charta_" + std::to_string(++m_lastStatement);
    PgResult res(PQprepare(m_conn, name.c_str(), key.c_str(), 0, nullptr));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return errorOf(res.get());
    m_statements.emplace(std::move(key), name);
    return name;
  }

  // Sends every run, then one sync, and reads the results as they come;
  // the socket is non-blocking meanwhile so neither side's buffers can
  // fill up and stall the other.
  Status runPipeline(const std::string& name, const std::vector<PgParams>& runs,
                     std::vector<std::vector<DbRow>>* results) {
    if (PQenterPipelineMode(m_conn) != 1) return errorOf(nullptr);
    if (PQsetnonblocking(m_conn, 1) != 0) {
      (void)PQexitPipelineMode(m_conn);
      return errorOf(nullptr);
    }
    Status failure;  // the first failed run
    Status broken;   // the connection failed
    for (const PgParams& p : runs) {
      if (PQsendQueryPrepared(m_conn, name.c_str(), p.count(), p.values(), p.lengths(), p.formats(),
                              0) != 1) {
        broken = errorOf(nullptr);
        break;
      }
    }
    if (broken.isOk() && PQpipelineSync(m_conn) != 1) broken = errorOf(nullptr);
    std::size_t finished = 0;  // runs whose results (and terminating NULL) were read
    bool synced = false;
    while (broken.isOk() && !synced) {
      const int flush = PQflush(m_conn);
      if (flush < 0 || PQconsumeInput(m_conn) == 0) {
        broken = errorOf(nullptr);
        break;
      }
      while (!synced && PQisBusy(m_conn) == 0) {
        PgResult res(PQgetResult(m_conn));
        if (finished == runs.size()) {
          if (res == nullptr) break;  // not there yet
          if (PQresultStatus(res.get()) == PGRES_PIPELINE_SYNC) synced = true;
          continue;
        }
        if (res == nullptr) {  // the end of one run's results
          ++finished;
          continue;
        }
        switch (PQresultStatus(res.get())) {
          case PGRES_TUPLES_OK:
            results->push_back(decodeRows(res.get()));
            break;
          case PGRES_COMMAND_OK:
          case PGRES_EMPTY_QUERY:
            results->emplace_back();
            break;
          case PGRES_PIPELINE_ABORTED:
            break;  // skipped after an earlier failure
          default:
            if (failure.isOk()) failure = errorOf(res.get());
            break;
        }
      }
      if (synced) break;
      if (PQstatus(m_conn) != CONNECTION_OK) {
        broken = errorOf(nullptr);
        break;
      }
      pollfd pfd{};
      pfd.fd = PQsocket(m_conn);
      pfd.events = static_cast<short>(POLLIN | (flush == 1 ? POLLOUT : 0));
      if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) {
        broken = Status::ioError(std::string("PostgreSQL: poll failed: ") + std::strerror(errno));
        m_broken = true;
      }
    }
    if (!broken.isOk()) {
      m_broken = true;  // mid-pipeline state is not worth recovering
      return broken;
    }
    (void)PQsetnonblocking(m_conn, 0);
    if (PQexitPipelineMode(m_conn) != 1) {
      m_broken = true;
      return Status::ioError("PostgreSQL: cannot leave pipeline mode: " + trimmed(PQerrorMessage(m_conn)));
    }
    return failure;
  }

  PGconn* m_conn;
  bool m_broken = false;
  bool m_inTxn = false;
  std::optional<Status> m_abort;  // the failure that aborted the open transaction
  std::unordered_map<std::string, std::string> m_statements;  // SQL text -> name
  unsigned long m_lastStatement = 0;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(const std::string& conninfo, int poolSize)
      : m_pool(
            poolSize, [info = conninfo]() { return PgConnection::open(info); },
            [](Connection& c) { return static_cast<PgConnection&>(c).alive(); },
            [](Connection& c) { return static_cast<PgConnection&>(c).reusable(); }) {}

  void seed(std::unique_ptr<Connection> conn) { m_pool.seed(std::move(conn)); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<Lease> acquire() override {
    Result<std::unique_ptr<Connection>> conn = m_pool.take();
    if (!conn.isOk()) return conn.status();
    return Lease(this, std::move(conn).value());
  }

  Status backupSqliteTo(const std::string& /*path*/) override {
    return Status::invalidArgument("backupSqliteTo: this database is PostgreSQL, not SQLite");
  }

 protected:
  void release(std::unique_ptr<Connection> conn) override { m_pool.put(std::move(conn)); }

 private:
  detail::ConnectionPool m_pool;
};

}  // namespace

Result<std::unique_ptr<Database>> Database::openPostgres(const std::string& conninfo, int poolSize) {
  Result<std::unique_ptr<Connection>> first = PgConnection::open(conninfo);
  if (!first.isOk()) return first.status();
  auto db = std::make_unique<PgDatabase>(conninfo, poolSize);
  db->seed(std::move(first).value());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace charta::server
