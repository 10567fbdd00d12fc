#pragma once

// The server's one seam to SQL storage: a small pool of connections to either
// an embedded SQLite file or a PostgreSQL server, with one SQL dialect for both
// where it can ($1..$n placeholders, INSERT ... ON CONFLICT, RETURNING).
//
// Every libsqlite3 and libpq call lives in db_sqlite.cc and db_postgres.cc;
// their failures come back as Status values, never as exceptions:
//   kAlreadyExists  a UNIQUE or PRIMARY KEY constraint was violated
//   kIoError        the database could not be opened, reached or written
//   kInvalidArgument a statement the database refused (a bug in our SQL)
// A failure worth retrying the whole transaction for (PostgreSQL
// serialization_failure 40001 or deadlock_detected 40P01, SQLite SQLITE_BUSY)
// is a kIoError whose message starts with "retryable:" (see dbIsRetryable).
//
// Inside a transaction a failed statement aborts the transaction on both
// backends (PostgreSQL's rule, enforced on SQLite too so code tested there
// behaves the same on PostgreSQL): later statements fail with
// kInvalidArgument, commit() rolls back and returns the first failure, and
// rollback() succeeds. Expected conflicts inside a transaction are handled
// in SQL (INSERT ... ON CONFLICT), not by inspecting a failed statement.
//
// Types on PostgreSQL: parameters travel as text (ints, reals, strings) or as
// binary bytea (Blob), and the server infers each parameter's type from the
// statement, so a parameter whose type the statement does not pin
// ("SELECT $1") is text; write CAST($1 AS BIGINT) when it matters (this
// spelling works on both backends, "$1::bigint" does not). Result columns
// come back by type: int2/int4/int8/bool as int64, float4/float8/numeric as
// double, bytea as Blob, anything else as text. Text cannot hold NUL bytes on
// PostgreSQL (kInvalidArgument); bytes go in a Blob.
//
// Thread-safety: Database is safe to share between threads; a Connection is
// used by one thread at a time (the one holding its Lease).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::server {

using crdt::Result;
using crdt::Status;

// Raw bytes (BLOB on SQLite, BYTEA on PostgreSQL), distinct from text.
struct Blob {
  std::string bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};

// A parameter or a column value. Integers are 64-bit (INTEGER / BIGINT),
// reals are doubles, text is UTF-8. NULL is std::monostate.
using DbValue = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;
using DbRow = std::vector<DbValue>;

// Typed reads of a column; a NULL or a value of another type gives the fallback.
std::int64_t dbInt(const DbValue& v, std::int64_t fallback = 0);
double dbReal(const DbValue& v, double fallback = 0);
const std::string& dbText(const DbValue& v);  // "" unless text
const std::string& dbBytes(const DbValue& v); // "" unless a blob (or text)
bool dbIsNull(const DbValue& v);

// True for the kIoError "retryable: ..." failures described above.
bool dbIsRetryable(const Status& s);

// A write refused because the storage is full: SQLite's SQLITE_FULL, or a
// write that failed with ENOSPC, EDQUOT or EFBIG (a file-size limit);
// PostgreSQL's disk_full (53100). A kIoError whose message starts with
// "storage full:"; nothing of the transaction was stored, and writes succeed
// again once there is room.
Status dbStorageFull(std::string_view detail);
bool dbIsStorageFull(const Status& s);
// An operating-system error (errno `sysErrno`) while writing what `detail`
// says: dbStorageFull for ENOSPC, EDQUOT and EFBIG, else a plain kIoError.
Status dbOsWriteError(std::string_view detail, int sysErrno);

enum class Dialect { kSqlite, kPostgres };

// " FOR UPDATE" on PostgreSQL, "" on SQLite (whose write transactions already
// hold the whole database): append to a SELECT that reads a row it will update.
std::string_view dbForUpdate(Dialect d);

class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // Runs one statement. `sql` uses $1..$n placeholders, each of which must be
  // given (params[i] is $i+1). Statements are prepared once per connection
  // and cached by their text. On SQLite a writing statement outside a
  // transaction takes the write lock for its duration.
  virtual Status exec(std::string_view sql, std::span<const DbValue> params = {}) = 0;
  virtual Result<std::vector<DbRow>> query(std::string_view sql,
                                           std::span<const DbValue> params = {}) = 0;

  // Runs the same statement once per parameter row and returns each run's
  // rows (empty for statements without RETURNING), in order. PostgreSQL
  // pipelines the runs (one round trip); SQLite loops over the prepared
  // statement. Stops at the first failure. Outside a transaction the runs are
  // atomic (one implicit transaction on both backends).
  virtual Result<std::vector<std::vector<DbRow>>> queryMany(
      std::string_view sql, std::span<const std::vector<DbValue>> paramRows) = 0;

  // Several statements without parameters (schema creation). PostgreSQL runs
  // a script outside a transaction as one implicit transaction, SQLite
  // statement by statement: call it between begin(true) and commit() when it
  // must be all or nothing (DDL is transactional on both).
  virtual Status execScript(std::string_view sql) = 0;

  // Transactions. A write transaction on SQLite is BEGIN IMMEDIATE and holds
  // the Database's write lock (one per file in the process) until commit or
  // rollback, so writers queue in the process instead of spinning on
  // SQLITE_BUSY. On PostgreSQL both are a plain BEGIN (READ COMMITTED);
  // callers serialise with row locks (dbForUpdate).
  // On SQLite a thread holding a write transaction must not write through a
  // second lease: it would wait for itself (kIoError after the 10 s busy
  // timeout). begin() inside a transaction is kInvalidArgument. After
  // commit() or rollback() returns, ok or not, no transaction is open (and on
  // SQLite the write lock is released).
  virtual Status begin(bool write) = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;
  virtual bool inTransaction() const = 0;
};

class Database {
 public:
  // A borrowed connection; returns itself to the pool when destroyed. A lease
  // destroyed inside a transaction rolls it back first.
  class Lease {
   public:
    Lease(Database* db, std::unique_ptr<Connection> conn);
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection* operator->() const { return m_conn.get(); }
    Connection& operator*() const { return *m_conn; }

   private:
    Database* m_db;
    std::unique_ptr<Connection> m_conn;
  };

  // Every Lease must be destroyed before its Database.
  virtual ~Database() = default;

  // Opens (creating if missing) a SQLite file in WAL mode with
  // synchronous=FULL, foreign keys on and a busy timeout; `poolSize` reader
  // connections share it. kIoError when it cannot be opened or put in WAL
  // mode (so not ":memory:").
  static Result<std::unique_ptr<Database>> openSqlite(const std::string& path, int poolSize = 4);
  // Connects to PostgreSQL with a libpq connection string
  // ("host=127.0.0.1 port=5432 dbname=charta user=charta"); a broken
  // connection is replaced on its next lease. One connection is opened at
  // once (a bad connection string fails here, kIoError); the others when
  // first needed.
  static Result<std::unique_ptr<Database>> openPostgres(const std::string& conninfo,
                                                        int poolSize = 8);

  virtual Dialect dialect() const = 0;
  // Blocks until a connection is free. Fails only if a connection had to be
  // (re)opened and could not be.
  virtual Result<Lease> acquire() = 0;

  // A consistent online copy of a SQLite database into a new SQLite file
  // (sqlite3 backup API). kInvalidArgument on PostgreSQL; kAlreadyExists
  // if `path` exists. The copy is written beside `path`, synced, and then
  // linked into place, so `path` never names a partial copy.
  virtual Status backupSqliteTo(const std::string& path) = 0;

 protected:
  friend class Lease;
  virtual void release(std::unique_ptr<Connection> conn) = 0;
};

// Runs `body` in a transaction on a leased connection: commits when it returns
// ok, rolls back otherwise. Retries the whole body (up to 5 attempts in all,
// each on a fresh lease after a short pause) when a statement, begin or
// commit fails with a retryable status (dbIsRetryable); returns the last
// status otherwise.
Status withTransaction(Database& db, bool write, const std::function<Status(Connection&)>& body);

}  // namespace charta::server
