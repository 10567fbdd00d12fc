#pragma once

// The server's store: the schema, the epoch, and write transactions that lock
// the one `head` row (next op sequence, audit chain head) so that, on SQLite
// and on PostgreSQL shared by several server processes alike:
//   - op sequences are assigned in commit order (a pull cursor never skips an
//     op that commits later), and
//   - audit events form one unbroken hash chain.
// Every write goes through Store::write(); audit events appended there are
// part of the same transaction, so an action and its audit record commit or
// vanish together.
//
// Thread-safety: Store is safe to share; each write() runs on its own leased
// connection.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "charta/server/config.h"
#include "db.h"

namespace charta::server {

// Bumped only for changes an older server cannot read; new tables made with
// CREATE TABLE IF NOT EXISTS appear in an existing store when it opens.
inline constexpr int kSchemaVersion = 1;

struct AuditEvent {
  std::string user;     // acting user id ("" for a device or the system)
  std::string device;   // acting device id
  std::string address;  // client address
  std::string action;   // "sync.push", "chart.read", "user.create", ...
  std::string clinic;
  std::string patient;
  std::string detail;   // a JSON object
};

struct Head {
  std::int64_t opSeq = 0;      // last op sequence assigned
  std::int64_t auditSeq = 0;   // last audit row
  std::string auditHash;       // hash of the last audit row (32 zero bytes at start)
  std::int64_t serverCounter = 0;  // last sequence of the server's own replica
};

std::int64_t nowMs();

class WriteTx {
 public:
  WriteTx(Connection& conn, Head head, std::int64_t now) : m_conn(conn), m_head(std::move(head)), m_now(now) {}
  Connection& conn() { return m_conn; }
  std::int64_t now() const { return m_now; }
  Head& head() { return m_head; }
  // Who acts in this transaction: fills the actor fields an event leaves empty.
  void setActor(std::string user, std::string device, std::string address) {
    m_actor = {std::move(user), std::move(device), std::move(address), {}, {}, {}, {}};
  }
  void audit(AuditEvent e) {
    if (e.user.empty()) e.user = m_actor.user;
    if (e.device.empty()) e.device = m_actor.device;
    if (e.address.empty()) e.address = m_actor.address;
    m_audit.push_back(std::move(e));
  }
  // Patients whose cached chart must be dropped if this transaction fails.
  void touch(const std::string& patient) { m_touched.insert(patient); }
  const std::set<std::string>& touched() const { return m_touched; }
  std::vector<AuditEvent>& pendingAudit() { return m_audit; }

 private:
  Connection& m_conn;
  Head m_head;
  std::int64_t m_now;
  AuditEvent m_actor;
  std::vector<AuditEvent> m_audit;
  std::set<std::string> m_touched;
};

class Store {
 public:
  // Opens PostgreSQL when config.postgres is set, else <data>/charta.db
  // (creating the folder 0700). Creates or checks the schema; a store written
  // by a newer schema is refused.
  static Result<std::unique_ptr<Store>> open(const Config& config);

  Database& db() { return *m_db; }
  Dialect dialect() const { return m_db->dialect(); }
  const std::string& backendName() const { return m_backend; }
  // Changes when a backup is restored; devices re-push on a new epoch. Read
  // when the store opens (a restore runs with the servers stopped).
  std::string epoch();
  // The epoch as stored now: also proves the store answers (/healthz).
  Result<std::string> readEpoch();
  std::uint64_t serverReplica() const { return m_serverReplica; }

  // Runs `body` in a write transaction with the head row locked, then appends
  // its audit events to the chain and saves the head. `onFailure` (optional)
  // is told the patients touched by a transaction that did not commit.
  Status write(const std::function<Status(WriteTx&)>& body);
  Status read(const std::function<Status(Connection&)>& body);
  void setRollbackHook(std::function<void(const std::set<std::string>&)> hook) {
    m_rollbackHook = std::move(hook);
  }


 private:
  Store(std::unique_ptr<Database> db, std::string backend) : m_db(std::move(db)), m_backend(std::move(backend)) {}
  Status init();

  std::unique_ptr<Database> m_db;
  std::string m_backend;
  std::uint64_t m_serverReplica = 0;
  std::mutex m_epochMu;
  std::string m_epoch;
  std::function<void(const std::set<std::string>&)> m_rollbackHook;
};

// The SQL of the schema for a dialect (also used by backup/restore).
std::string schemaSql(Dialect d);
// Tables in dependency order (restore inserts in this order). The
// attachment tables (attachments, attachment_chunks, attachment_blobs) are
// left out on purpose: a backup holds no attachment bytes (they are files on
// SQLite), so a restore keeps the server's attachments as they are.
const std::vector<std::string>& storeTables();

// Appends the events to the chain (rows `audit`), advancing head.
Status appendAudit(Connection& conn, Head& head, std::int64_t now, const std::vector<AuditEvent>& events);

// The hash of audit row `seq` written at `at` after a row whose hash is `prev`.
std::string auditRowHash(const std::string& prev, std::int64_t seq, std::int64_t at, const AuditEvent& e);

struct AuditVerify {
  bool ok = true;
  std::int64_t checked = 0;
  std::int64_t firstBroken = 0;  // seq of the first bad row (0 when ok)
  std::string problem;
};
Result<AuditVerify> verifyAudit(Store& store);

}  // namespace charta::server
