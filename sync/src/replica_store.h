// The SQLite adapter of the tablet's replica: a connection, cached prepared
// statements and transactions, with every failure as a Status. The only
// header of charta_sync that is about SQLite; only replica_store.cc includes
// <sqlite3.h>.
//
// Thread-safety: none; Replica serialises access with its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "charta/crdt/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace charta::sync {

using crdt::Result;
using crdt::Status;

class SqliteDb;

// A prepared statement owned by the SqliteDb cache. Bind indexes are 1-based.
// A statement left in the middle of its rows keeps the table open (and a
// DELETE on it fails with "table is locked"), so SqliteDb::prepare() and
// exec() reset every statement still open: read all the rows you need before
// preparing the next statement.
class Statement {
 public:
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bindBlob(int index, std::string_view bytes);
  Statement& bindNull(int index);
  // True when a row is ready, false when done.
  Result<bool> step();
  // Runs to completion (for writes).
  Status run();
  std::int64_t int64(int column) const;
  std::string text(int column) const;  // blob or text bytes
  bool isNull(int column) const;

 private:
  friend class SqliteDb;
  Statement(SqliteDb* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  SqliteDb* m_db;
  sqlite3_stmt* m_stmt;
  Status m_bindError;
  bool m_open = false;  // stepped to a row and not finished
};

class SqliteDb {
 public:
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (create: or creates) a database file in WAL mode with foreign
  // keys, secure_delete and a busy timeout.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, bool create);

  Status exec(std::string_view sql);
  // A cached statement, reset and with bindings cleared.
  Result<Statement*> prepare(std::string_view sql);
  // Durable commits (synchronous=FULL, the default: an edit the app showed
  // as saved survives power loss) or ordinary ones (NORMAL: a power cut may
  // undo the last commits, never corrupt; for what the server can give back,
  // such as pulled pages and acknowledgements). Outside a transaction only.
  Status setDurable(bool durable);
  // BEGIN IMMEDIATE / COMMIT / ROLLBACK.
  Status begin();
  Status commit();
  void rollback();
  std::int64_t changes() const;
  Status error(std::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db) : m_db(db) {}
  void resetOpen();
  friend class Statement;
  sqlite3* m_db;
  std::vector<Statement*> m_open;
  bool m_durable = true;
  std::unordered_map<std::string, std::unique_ptr<Statement>> m_cache;
};

}  // namespace charta::sync
