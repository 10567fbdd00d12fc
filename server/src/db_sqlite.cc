// The SQLite backend: one file in WAL mode, a pool of connections, and a
// write gate (per database file, process-wide) that write transactions hold
// from BEGIN IMMEDIATE to COMMIT or ROLLBACK.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "db.h"
#include "db_pool_internal.h"

namespace charta::server {

namespace {

constexpr int kBusyTimeoutMs = 10'000;
constexpr std::size_t kMaxCachedStatements = 256;

// A lock that is not tied to a thread (a lease may in principle move between
// threads between BEGIN and COMMIT, which std::mutex forbids).
class WriteGate {
 public:
  // False when the gate stayed held for `timeout`.
  bool lock(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard(m_mutex);
    if (!m_free.wait_for(guard, timeout, [this] { return !m_held; })) return false;
    m_held = true;
    return true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> guard(m_mutex);
      m_held = false;
    }
    m_free.notify_one();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_free;
  bool m_held = false;
};

// One gate per database file in this process, so two Database objects on the
// same file still queue their writers here rather than on SQLITE_BUSY.
std::shared_ptr<WriteGate> writeGateFor(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<WriteGate>> gates;
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
  const std::string key = ec ? path : canonical.string();
  std::lock_guard<std::mutex> guard(mutex);
  for (auto it = gates.begin(); it != gates.end();) {
    it = it->second.expired() ? gates.erase(it) : std::next(it);
  }
  std::weak_ptr<WriteGate>& slot = gates[key];
  std::shared_ptr<WriteGate> gate = slot.lock();
  if (!gate) {
    gate = std::make_shared<WriteGate>();
    slot = gate;
  }
  return gate;
}

// Maps a SQLite result code (extended codes are on) to a Status. `sysErrno`:
// the OS error behind an SQLITE_IOERR (sqlite3_system_errno), 0 when unknown.
Status sqliteStatus(int rc, const std::string& message, int sysErrno = 0) {
  // Out of space: SQLITE_FULL (ENOSPC), or an I/O error whose OS error says
  // so: SQLite reports a write refused past a file-size limit (EFBIG) or over
  // a disk quota (EDQUOT) as SQLITE_IOERR_WRITE.
  if ((rc & 0xff) == SQLITE_FULL) return dbStorageFull(message);
  if ((rc & 0xff) == SQLITE_IOERR && (sysErrno == ENOSPC || sysErrno == EDQUOT || sysErrno == EFBIG)) {
    return dbOsWriteError(message, sysErrno);
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::alreadyExists(message);
      }
      return Status::invalidArgument(message);
    case SQLITE_BUSY:
      return Status::ioError("retryable: " + message);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_LOCKED:
      return Status::ioError(message);
    default:
      return Status::invalidArgument(message);
  }
}

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, std::shared_ptr<WriteGate> gate)
      : m_db(db), m_gate(std::move(gate)) {}

  ~SqliteConnection() override {
    finalizeAll();
    sqlite3_close_v2(m_db);
    if (m_holdsGate) m_gate->unlock();
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Per-connection settings; the first connection also turns on WAL.
  Status configure() {
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, kBusyTimeoutMs);
    std::vector<DbRow> rows;
    Status s = runSimple("PRAGMA journal_mode=WAL", &rows);
    if (!s.isOk()) return s;
    if (rows.size() != 1 || rows[0].size() != 1 || dbText(rows[0][0]) != "wal") {
      return Status::ioError("SQLite would not switch to WAL journal mode (got '" +
                             (rows.empty() || rows[0].empty() ? std::string() : dbText(rows[0][0])) +
                             "')");
    }
    s = runSimple("PRAGMA synchronous=FULL", nullptr);
    if (s.isOk()) s = runSimple("PRAGMA foreign_keys=ON", nullptr);
    return s;
  }

  sqlite3* handle() const { return m_db; }
  bool reusable() const { return !inTransaction(); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status exec(std::string_view sql, std::span<const DbValue> params) override {
    return runOne(sql, params, nullptr);
  }

  Result<std::vector<DbRow>> query(std::string_view sql, std::span<const DbValue> params) override {
    std::vector<DbRow> rows;
    Status s = runOne(sql, params, &rows);
    if (!s.isOk()) return s;
    return rows;
  }

  Result<std::vector<std::vector<DbRow>>> queryMany(
      std::string_view sql, std::span<const std::vector<DbValue>> paramRows) override {
    if (m_abort) return abortedStatus();
    Result<sqlite3_stmt*> prepared = prepare(sql);
    if (!prepared.isOk()) return fail(prepared.status());
    sqlite3_stmt* stmt = prepared.value();
    std::vector<std::vector<DbRow>> results;
    results.reserve(paramRows.size());
    if (stmt == nullptr) {  // nothing but whitespace or comments
      results.resize(paramRows.size());
      return results;
    }
    // Outside a transaction the runs are one transaction, as in a pipeline.
    const bool implicit = !inTransaction();
    if (implicit && !paramRows.empty()) {
      Status s = begin(sqlite3_stmt_readonly(stmt) == 0);
      if (!s.isOk()) return s;
    }
    Status failure;
    for (const std::vector<DbValue>& params : paramRows) {
      std::vector<DbRow> rows;
      failure = bind(stmt, params);
      if (failure.isOk()) failure = step(stmt, &rows);
      if (!failure.isOk()) break;
      results.push_back(std::move(rows));
    }
    if (!failure.isOk()) {
      if (implicit) {
        (void)rollback();
        return failure;
      }
      return fail(failure);
    }
    if (implicit && !paramRows.empty()) {
      Status s = commit();
      if (!s.isOk()) return s;
    }
    return results;
  }

  Status execScript(std::string_view sql) override {
    if (m_abort) return abortedStatus();
    const bool takeGate = !inTransaction();
    if (takeGate) {
      Status locked = lockGate();
      if (!locked.isOk()) return locked;
    }
    char* error = nullptr;
    const std::string script(sql);
    const int rc = sqlite3_exec(m_db, script.c_str(), nullptr, nullptr, &error);
    Status s;
    if (rc != SQLITE_OK) {
      s = sqliteStatus(rc, error != nullptr ? std::string(error) : std::string(sqlite3_errstr(rc)), osErrno(rc));
    }
    sqlite3_free(error);
    if (takeGate && sqlite3_get_autocommit(m_db) != 0) unlockGate();  // unless it left BEGIN open
    return s.isOk() ? s : fail(s);
  }

  Status begin(bool write) override {
    if (inTransaction()) return Status::invalidArgument("begin: a transaction is already open");
    if (write) {
      Status locked = lockGate();
      if (!locked.isOk()) return locked;
    }
    Status s = runSimple(write ? "BEGIN IMMEDIATE" : "BEGIN", nullptr);
    if (!s.isOk()) {
      if (write) unlockGate();
      return s;
    }
    m_inTxn = true;
    m_abort.reset();
    return s;
  }

  Status commit() override {
    if (!inTransaction()) return Status::invalidArgument("commit: no transaction is open");
    Status s;
    if (m_abort) {
      s = *m_abort;
    } else {
      s = runSimple("COMMIT", nullptr);
    }
    if (sqlite3_get_autocommit(m_db) == 0) (void)runSimple("ROLLBACK", nullptr);
    endTransaction();
    return s;
  }

  Status rollback() override {
    Status s;
    if (sqlite3_get_autocommit(m_db) == 0) s = runSimple("ROLLBACK", nullptr);
    endTransaction();
    return s;
  }

  bool inTransaction() const override {
    return m_inTxn || m_holdsGate || sqlite3_get_autocommit(m_db) == 0;
  }

 private:
  // Waits as long as SQLite would wait on a lock held by another process.
  Status lockGate() {
    if (!m_gate->lock(std::chrono::milliseconds(kBusyTimeoutMs))) {
      return Status::ioError(
          "waited " + std::to_string(kBusyTimeoutMs / 1000) +
          " s for the SQLite write lock (does this thread hold a write transaction on another lease?)");
    }
    m_holdsGate = true;
    return Status::ok();
  }
  void unlockGate() {
    if (!m_holdsGate) return;
    m_holdsGate = false;
    m_gate->unlock();
  }

  void endTransaction() {
    m_inTxn = false;
    m_abort.reset();
    unlockGate();
  }

  // A failed statement inside a transaction aborts it (see db.h).
  Status fail(Status s) {
    if (inTransaction() && !m_abort) m_abort = s;
    return s;
  }

  Status abortedStatus() const {
    return Status::invalidArgument(
        "the transaction was aborted by an earlier failed statement (" + m_abort->toString() +
        "); roll it back");
  }

  Status lastError(int rc) const {
    const std::string message =
        sqlite3_extended_errcode(m_db) == rc ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    return sqliteStatus(rc, message, osErrno(rc));
  }

  // The OS error behind a failure `rc`, 0 when unknown.
  int osErrno(int rc) const {
    const int sysErrno = sqlite3_system_errno(m_db);
    return (rc & 0xff) == SQLITE_IOERR && sysErrno == 0 ? fileErrno() : sysErrno;
  }

  // The errno of the last failed write of the database file or its WAL: by
  // the time SQLite reports SQLITE_IOERR_WRITE, errno and
  // sqlite3_system_errno no longer hold it (an EFBIG or EDQUOT on the WAL
  // would read as a bare "disk I/O error").
  int fileErrno() const {
    const auto full = [](int e) { return e == ENOSPC || e == EDQUOT || e == EFBIG; };
    int mainErrno = 0;
    if (sqlite3_file_control(m_db, "main", SQLITE_FCNTL_LAST_ERRNO, &mainErrno) != SQLITE_OK) mainErrno = 0;
    if (full(mainErrno)) return mainErrno;
    sqlite3_file* journal = nullptr;
    if (sqlite3_file_control(m_db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) == SQLITE_OK &&
        journal != nullptr && journal->pMethods != nullptr) {
      int journalErrno = 0;
      if (journal->pMethods->xFileControl(journal, SQLITE_FCNTL_LAST_ERRNO, &journalErrno) == SQLITE_OK &&
          full(journalErrno)) {
        return journalErrno;
      }
    }
    return mainErrno;
  }

  // One statement with parameters; rows into *rows when given.
  Status runOne(std::string_view sql, std::span<const DbValue> params, std::vector<DbRow>* rows) {
    if (m_abort) return abortedStatus();
    Result<sqlite3_stmt*> prepared = prepare(sql);
    if (!prepared.isOk()) return fail(prepared.status());
    sqlite3_stmt* stmt = prepared.value();
    if (stmt == nullptr) {
      if (!params.empty()) return fail(Status::invalidArgument("parameters given to an empty statement"));
      return Status::ok();
    }
    Status s = bind(stmt, params);
    if (!s.isOk()) return fail(s);
    // A write outside a transaction queues on the gate like a transaction.
    const bool takeGate = !inTransaction() && sqlite3_stmt_readonly(stmt) == 0;
    if (takeGate) {
      s = lockGate();
      if (!s.isOk()) return s;
    }
    s = step(stmt, rows);
    if (takeGate && sqlite3_get_autocommit(m_db) != 0) unlockGate();
    return s.isOk() ? s : fail(s);
  }

  // Statements the adapter itself runs (BEGIN, COMMIT, PRAGMA ...).
  Status runSimple(const char* sql, std::vector<DbRow>* rows) {
    Result<sqlite3_stmt*> prepared = prepare(sql);
    if (!prepared.isOk()) return prepared.status();
    return step(prepared.value(), rows);
  }

  // The cached statement for `sql` (nullptr when it holds no statement).
  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = m_stmts.find(key); it != m_stmts.end()) return it->second;
    if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
      return Status::invalidArgument("statement too long");
    }
    if (m_stmts.size() >= kMaxCachedStatements) finalizeAll();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) {
      Status s = lastError(rc);
      sqlite3_finalize(stmt);
      return s;
    }
    if (stmt == nullptr) return static_cast<sqlite3_stmt*>(nullptr);
    // Only whitespace, semicolons or comments may follow the statement.
    if (tail != nullptr) {
      const std::size_t used = static_cast<std::size_t>(tail - sql.data());
      const std::string_view rest = sql.substr(used);
      if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        sqlite3_stmt* next = nullptr;
        rc = sqlite3_prepare_v3(m_db, rest.data(), static_cast<int>(rest.size()), 0, &next, nullptr);
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next != nullptr) {
          sqlite3_finalize(stmt);
          return Status::invalidArgument("one statement at a time (execScript runs several): " + key);
        }
      }
    }
    m_stmts.emplace(std::move(key), stmt);
    return stmt;
  }

  void finalizeAll() {
    for (auto& [sql, stmt] : m_stmts) sqlite3_finalize(stmt);
    m_stmts.clear();
  }

  // Binds params[i] to "$<i+1>"; the statement must use exactly $1..$n.
  Status bind(sqlite3_stmt* stmt, std::span<const DbValue> params) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(expected) != params.size()) {
      return Status::invalidArgument("statement takes " + std::to_string(expected) +
                                     " parameters, " + std::to_string(params.size()) +
                                     " given: " + std::string(sqlite3_sql(stmt)));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) {
        return Status::invalidArgument("statement does not use " + name +
                                       " (placeholders are $1..$n): " + std::string(sqlite3_sql(stmt)));
      }
      const DbValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // The bytes outlive the step: no copy (a null destructor is SQLITE_STATIC).
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), nullptr, SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        rc = sqlite3_bind_blob64(stmt, index, b->bytes.data(), b->bytes.size(), nullptr);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) {
        Status s = lastError(rc);
        sqlite3_clear_bindings(stmt);
        return s;
      }
    }
    return Status::ok();
  }

  // Steps to the end, collecting rows when asked; leaves the statement reset
  // and its bindings cleared.
  Status step(sqlite3_stmt* stmt, std::vector<DbRow>* rows) {
    Status s;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        s = lastError(rc);
        break;
      }
      if (rows != nullptr) rows->push_back(readRow(stmt));
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return s;
  }

  static DbRow readRow(sqlite3_stmt* stmt) {
    const int columns = sqlite3_column_count(stmt);
    DbRow row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_TEXT: {
          const unsigned char* text = sqlite3_column_text(stmt, c);
          const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
          row.emplace_back(text == nullptr ? std::string()
                                           : std::string(reinterpret_cast<const char*>(text), size));
          break;
        }
        case SQLITE_BLOB: {
          const void* bytes = sqlite3_column_blob(stmt, c);
          const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
          row.emplace_back(Blob{bytes == nullptr ? std::string()
                                                 : std::string(static_cast<const char*>(bytes), size)});
          break;
        }
        default:
          row.emplace_back(std::monostate{});
          break;
      }
    }
    return row;
  }

  sqlite3* m_db;
  std::shared_ptr<WriteGate> m_gate;
  bool m_holdsGate = false;
  bool m_inTxn = false;
  std::optional<Status> m_abort;  // the failure that aborted the open transaction
  std::unordered_map<std::string, sqlite3_stmt*> m_stmts;
};

Result<std::unique_ptr<Connection>> openSqliteConnection(const std::string& path,
                                                          const std::shared_ptr<WriteGate>& gate) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::ioError("cannot open SQLite database " + path + ": " + message);
  }
  auto conn = std::make_unique<SqliteConnection>(db, gate);
  Status s = conn->configure();
  if (!s.isOk()) {
    return Status::ioError("cannot set up SQLite database " + path + ": " + s.message());
  }
  return std::unique_ptr<Connection>(std::move(conn));
}

// Removes a file (and a journal beside it) on scope exit.
class FileRemover {
 public:
  explicit FileRemover(std::string path) : m_path(std::move(path)) {}
  ~FileRemover() {
    ::unlink(m_path.c_str());
    ::unlink((m_path + "-journal").c_str());
  }
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

 private:
  std::string m_path;
};

Status fsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::ioError(errnoText("cannot open " + path));
  const int rc = ::fsync(fd);
  const int savedErrno = errno;
  ::close(fd);
  if (rc != 0) {
    errno = savedErrno;
    return Status::ioError(errnoText("cannot sync " + path));
  }
  return Status::ok();
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, std::shared_ptr<WriteGate> gate, int poolSize)
      : m_path(std::move(path)),
        m_pool(
            poolSize, [file = m_path, gate]() { return openSqliteConnection(file, gate); },
            [](Connection&) { return true; },
            [](Connection& c) { return static_cast<SqliteConnection&>(c).reusable(); }) {}

  void seed(std::unique_ptr<Connection> conn) { m_pool.seed(std::move(conn)); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<Lease> acquire() override {
    Result<std::unique_ptr<Connection>> conn = m_pool.take();
    if (!conn.isOk()) return conn.status();
    return Lease(this, std::move(conn).value());
  }

  Status backupSqliteTo(const std::string& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      return Status::alreadyExists("backup target exists: " + path);
    }
    static std::atomic<unsigned> counter{0};
    const std::string partial = path + ".partial-" + std::to_string(::getpid()) + "-" +
                                std::to_string(counter.fetch_add(1));
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status::ioError(errnoText("cannot create " + partial));
    ::close(fd);
    FileRemover remover(partial);  // once linked, `path` keeps the copy

    Status s = copyInto(partial);
    if (!s.isOk()) return s;
    s = fsyncPath(partial, O_RDONLY);
    if (!s.isOk()) return s;
    if (::link(partial.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) return Status::alreadyExists("backup target exists: " + path);
      return Status::ioError(errnoText("cannot link the backup to " + path));
    }
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    return fsyncPath(dir, O_RDONLY | O_DIRECTORY);
  }

 protected:
  void release(std::unique_ptr<Connection> conn) override { m_pool.put(std::move(conn)); }

 private:
  // Copies the database into the (empty) file at `target` in one backup step,
  // which reads one snapshot: WAL lets writers go on meanwhile.
  Status copyInto(const std::string& target) {
    sqlite3* dest = nullptr;
    int rc = sqlite3_open_v2(target.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = dest != nullptr ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
      sqlite3_close_v2(dest);
      return Status::ioError("cannot open backup file " + target + ": " + message);
    }
    sqlite3_extended_result_codes(dest, 1);
    Status s;
    rc = sqlite3_exec(dest, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) s = sqliteStatus(rc, sqlite3_errmsg(dest));
    if (s.isOk()) {
      Result<Lease> lease = acquire();
      if (!lease.isOk()) {
        s = lease.status();
      } else {
        sqlite3* source = static_cast<SqliteConnection&>(*lease.value()).handle();
        sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
        if (backup == nullptr) {
          s = sqliteStatus(sqlite3_extended_errcode(dest), sqlite3_errmsg(dest));
        } else {
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
          for (;;) {
            rc = sqlite3_backup_step(backup, -1);
            if (rc == SQLITE_DONE) break;
            const int primary = rc & 0xff;
            if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) &&
                std::chrono::steady_clock::now() < deadline) {
              std::this_thread::sleep_for(std::chrono::milliseconds(10));
              continue;
            }
            break;
          }
          const int finish = sqlite3_backup_finish(backup);
          if (rc != SQLITE_DONE) {
            s = sqliteStatus(rc, std::string("backup failed: ") + sqlite3_errstr(rc));
          } else if (finish != SQLITE_OK) {
            s = sqliteStatus(finish, std::string("backup failed: ") + sqlite3_errmsg(dest));
          }
        }
      }
    }
    rc = sqlite3_close(dest);
    if (s.isOk() && rc != SQLITE_OK) s = sqliteStatus(rc, "cannot close backup file " + target);
    return s;
  }

  std::string m_path;
  detail::ConnectionPool m_pool;
};

}  // namespace

Result<std::unique_ptr<Database>> Database::openSqlite(const std::string& path, int poolSize) {
  std::shared_ptr<WriteGate> gate = writeGateFor(path);
  Result<std::unique_ptr<Connection>> first = openSqliteConnection(path, gate);
  if (!first.isOk()) return first.status();
  auto db = std::make_unique<SqliteDatabase>(path, std::move(gate), poolSize);
  db->seed(std::move(first).value());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace charta::server
