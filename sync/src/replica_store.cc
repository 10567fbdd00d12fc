#include "replica_store.h"

#include <sqlite3.h>

namespace charta::sync {

namespace {

std::string message(sqlite3* db, std::string_view what) {
  std::string out(what);
  out += ": ";
  out += db ? sqlite3_errmsg(db) : "out of memory";
  return out;
}

bool isIoFailure(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
         primary == SQLITE_READONLY || primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
         primary == SQLITE_NOMEM || primary == SQLITE_PROTOCOL;
}

}  // namespace

Status SqliteDb::error(std::string_view what) const {
  const int code = sqlite3_extended_errcode(m_db);
  if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) {
    return Status::corruption(message(m_db, what));
  }
  if ((code & 0xff) == SQLITE_CONSTRAINT) return Status::alreadyExists(message(m_db, what));
  // Said so the nurse knows what to do; nothing of the failed change is kept.
  if ((code & 0xff) == SQLITE_FULL) {
    return Status::ioError("the tablet's storage is full: free some space, then try again (" + message(m_db, what) +
                           ")");
  }
  if (isIoFailure(code)) return Status::ioError(message(m_db, what));
  return Status::ioError(message(m_db, what));
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(m_stmt, index, value) != SQLITE_OK) m_bindError = m_db->error("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK) {
    m_bindError = m_db->error("bind");
  }
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a valid pointer.
  static const char kEmpty = 0;
  if (sqlite3_bind_blob64(m_stmt, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(), SQLITE_TRANSIENT) !=
      SQLITE_OK) {
    m_bindError = m_db->error("bind");
  }
  return *this;
}

Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(m_stmt, index) != SQLITE_OK) m_bindError = m_db->error("bind");
  return *this;
}

Result<bool> Statement::step() {
  if (!m_bindError.isOk()) return m_bindError;
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    if (!m_open) {
      m_open = true;
      m_db->m_open.push_back(this);
    }
    return true;
  }
  Status st = rc == SQLITE_DONE ? Status::ok() : m_db->error("step");
  sqlite3_reset(m_stmt);
  m_open = false;
  if (!st.isOk()) return st;
  return false;
}

Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r.isOk()) return r.status();
    if (!r.value()) return Status::ok();
  }
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::string Statement::text(int column) const {
  const void* p = sqlite3_column_blob(m_stmt, column);
  const int n = sqlite3_column_bytes(m_stmt, column);
  if (!p || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt->m_stmt);
  m_cache.clear();
  sqlite3_close_v2(m_db);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = Status::ioError(message(raw, "cannot open " + path));
    sqlite3_close_v2(raw);
    return st;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  // WAL: readers never block the writer. synchronous=FULL: an edit the app
  // showed as saved survives power loss. secure_delete: freed pages are
  // zeroed (ciphertext anyway, but a purged patient leaves nothing behind).
  Status st = db->exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
  if (!st.isOk()) return st;
  return db;
}

void SqliteDb::resetOpen() {
  for (Statement* s : m_open) {
    if (s->m_open) sqlite3_reset(s->m_stmt);
    s->m_open = false;
  }
  m_open.clear();
}

Status SqliteDb::exec(std::string_view sql) {
  resetOpen();
  char* err = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return error("exec");
  }
  return Status::ok();
}

Result<Statement*> SqliteDb::prepare(std::string_view sql) {
  resetOpen();
  std::string key(sql);
  auto it = m_cache.find(key);
  if (it != m_cache.end()) {
    Statement* s = it->second.get();
    sqlite3_reset(s->m_stmt);
    sqlite3_clear_bindings(s->m_stmt);
    s->m_bindError = Status::ok();
    return s;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(m_db, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                         nullptr) != SQLITE_OK) {
    return error("prepare");
  }
  auto owned = std::unique_ptr<Statement>(new Statement(this, stmt));
  Statement* s = owned.get();
  m_cache.emplace(std::move(key), std::move(owned));
  return s;
}

Status SqliteDb::setDurable(bool durable) {
  if (durable == m_durable) return Status::ok();
  Status st = exec(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  if (st.isOk()) m_durable = durable;
  return st;
}

Status SqliteDb::begin() { return exec("BEGIN IMMEDIATE"); }
Status SqliteDb::commit() { return exec("COMMIT"); }
void SqliteDb::rollback() {
  if (!sqlite3_get_autocommit(m_db)) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}
std::int64_t SqliteDb::changes() const { return sqlite3_changes64(m_db); }

}  // namespace charta::sync
