#include "store.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "crypto.h"

namespace charta::server {
namespace {

// Run on every open: a table added since a store was made (device_audit: the
// highest audit seq stored per device; patient_keys: the break-glass lookup
// index, built from the op log when meta "patient_keys" is absent;
// fhir_sources and fhir_directory: what FHIR imports charted and the
// practitioners, organisations and locations they named; attachments and
// attachment_chunks: what is known of each attachment and of each chunk held)
// is created then, so additive tables keep the schema version.
constexpr std::string_view kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS head (
  id {INT} PRIMARY KEY, op_seq {INT} NOT NULL, audit_seq {INT} NOT NULL,
  audit_hash {BLOB} NOT NULL, server_counter {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS clinics (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, clinic_id TEXT,
  password_hash TEXT NOT NULL, created_at {INT} NOT NULL, revoked_at {INT});
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, clinic_id TEXT NOT NULL, name TEXT NOT NULL, replica_id {INT} NOT NULL UNIQUE,
  secret_hash {BLOB} NOT NULL, enrolled_at {INT} NOT NULL, enrolled_by TEXT NOT NULL,
  revoked_at {INT}, last_seen_at {INT}, last_push_at {INT}, last_pull_at {INT},
  last_pull_seq {INT} NOT NULL DEFAULT 0, pending_ops {INT} NOT NULL DEFAULT 0,
  last_error TEXT, last_error_at {INT}, ops_pushed {INT} NOT NULL DEFAULT 0,
  future_ops {INT} NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS enrolment_codes (
  code_hash {BLOB} PRIMARY KEY, clinic_id TEXT NOT NULL, created_by TEXT NOT NULL,
  created_at {INT} NOT NULL, expires_at {INT} NOT NULL, used_at {INT}, device_id TEXT);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash {BLOB} PRIMARY KEY, user_id TEXT NOT NULL, device_id TEXT,
  created_at {INT} NOT NULL, expires_at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS patients (
  id TEXT PRIMARY KEY, clinic_id TEXT NOT NULL, created_seq {INT} NOT NULL, updated_seq {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS patient_keys (
  patient_id TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (patient_id, key));
CREATE INDEX IF NOT EXISTS patient_keys_key ON patient_keys (key);
CREATE TABLE IF NOT EXISTS scope_changes (
  seq {INT} PRIMARY KEY, patient_id TEXT NOT NULL, from_clinic TEXT NOT NULL, to_clinic TEXT NOT NULL,
  at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS ops (
  seq {INT} PRIMARY KEY, replica {INT} NOT NULL, counter {INT} NOT NULL, patient_id TEXT NOT NULL,
  clinic_id TEXT NOT NULL, device_id TEXT NOT NULL, received_at {INT} NOT NULL, hlc_wall {INT} NOT NULL,
  future_clock {INT} NOT NULL, body {BLOB} NOT NULL, UNIQUE (replica, counter));
CREATE INDEX IF NOT EXISTS ops_patient_seq ON ops (patient_id, seq);
CREATE INDEX IF NOT EXISTS ops_clinic_seq ON ops (clinic_id, seq);
CREATE TABLE IF NOT EXISTS rejected_ops (
  replica {INT} NOT NULL, counter {INT} NOT NULL, patient_id TEXT NOT NULL, device_id TEXT NOT NULL,
  received_at {INT} NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (replica, counter));
CREATE TABLE IF NOT EXISTS conflicts (
  id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, clinic_id TEXT NOT NULL, path TEXT NOT NULL,
  clinical {INT} NOT NULL, opened_at {INT} NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conflicts_patient ON conflicts (patient_id);
CREATE INDEX IF NOT EXISTS conflicts_inbox ON conflicts (clinical DESC, opened_at, id);
CREATE TABLE IF NOT EXISTS audit (
  seq {INT} PRIMARY KEY, at {INT} NOT NULL, user_id TEXT NOT NULL, device_id TEXT NOT NULL,
  address TEXT NOT NULL, action TEXT NOT NULL, clinic_id TEXT NOT NULL, patient_id TEXT NOT NULL,
  detail TEXT NOT NULL, prev_hash {BLOB} NOT NULL, hash {BLOB} NOT NULL);
CREATE INDEX IF NOT EXISTS audit_patient ON audit (patient_id, seq);
CREATE TABLE IF NOT EXISTS device_audit (
  device_id TEXT PRIMARY KEY, acked_seq {INT} NOT NULL, updated_at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS fhir_sources (
  source TEXT PRIMARY KEY, patient_id TEXT NOT NULL, op_replica {INT} NOT NULL, op_counter {INT} NOT NULL,
  imported_at {INT} NOT NULL);
CREATE INDEX IF NOT EXISTS fhir_sources_patient ON fhir_sources (patient_id);
CREATE TABLE IF NOT EXISTS fhir_directory (
  ref TEXT PRIMARY KEY, kind TEXT NOT NULL, display TEXT NOT NULL, updated_at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS portal_accounts (
  id TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL, totp_secret {BLOB},
  created_at {INT} NOT NULL, revoked_at {INT});
CREATE TABLE IF NOT EXISTS portal_links (
  account_id TEXT NOT NULL, patient_id TEXT NOT NULL, relation TEXT NOT NULL, invited_by TEXT NOT NULL,
  created_at {INT} NOT NULL, PRIMARY KEY (account_id, patient_id));
CREATE INDEX IF NOT EXISTS portal_links_patient ON portal_links (patient_id);
CREATE TABLE IF NOT EXISTS portal_invitations (
  code_hash {BLOB} PRIMARY KEY, patient_id TEXT NOT NULL, clinic_id TEXT NOT NULL, relation TEXT NOT NULL,
  name TEXT NOT NULL, created_by TEXT NOT NULL, created_at {INT} NOT NULL, expires_at {INT} NOT NULL,
  used_at {INT}, account_id TEXT);
CREATE TABLE IF NOT EXISTS portal_sessions (
  token_hash {BLOB} PRIMARY KEY, account_id TEXT NOT NULL, created_at {INT} NOT NULL, expires_at {INT} NOT NULL);
CREATE TABLE IF NOT EXISTS note_sharing (
  patient_id TEXT NOT NULL, note_id TEXT NOT NULL, shared {INT} NOT NULL, reason TEXT NOT NULL,
  changed_by TEXT NOT NULL, changed_at {INT} NOT NULL, PRIMARY KEY (patient_id, note_id));
CREATE TABLE IF NOT EXISTS attachments (
  patient_id TEXT NOT NULL, hash TEXT NOT NULL, size {INT} NOT NULL, media_type TEXT NOT NULL,
  chunks {INT} NOT NULL, state TEXT NOT NULL, uploaded_by TEXT NOT NULL, device_id TEXT NOT NULL,
  created_at {INT} NOT NULL, completed_at {INT}, PRIMARY KEY (patient_id, hash));
CREATE TABLE IF NOT EXISTS attachment_chunks (
  patient_id TEXT NOT NULL, hash TEXT NOT NULL, idx {INT} NOT NULL, sha256 TEXT NOT NULL, size {INT} NOT NULL,
  received_at {INT} NOT NULL, PRIMARY KEY (patient_id, hash, idx));
)SQL";

// PostgreSQL only: the bytes of attachment chunks (blob_store.h; a SQLite
// store keeps them as files in its data folder).
constexpr std::string_view kPostgresBlobSchema = R"SQL(
CREATE TABLE IF NOT EXISTS attachment_blobs (
  patient_id TEXT NOT NULL, hash TEXT NOT NULL, idx BIGINT NOT NULL, bytes BYTEA NOT NULL,
  PRIMARY KEY (patient_id, hash, idx));
)SQL";

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

Result<std::string> metaValue(Connection& c, const std::string& key) {
  auto rows = c.query("SELECT value FROM meta WHERE key = $1", std::vector<DbValue>{key});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return Status::notFound(key);
  return dbText(rows.value()[0][0]);
}

Status setMeta(Connection& c, const std::string& key, const std::string& value) {
  return c.exec(
      "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      std::vector<DbValue>{key, value});
}

}  // namespace

std::string auditRowHash(const std::string& prev, std::int64_t seq, std::int64_t at, const AuditEvent& e) {
  std::string seqText = std::to_string(seq);
  std::string atText = std::to_string(at);
  return digestParts({prev, seqText, atText, e.user, e.device, e.address, e.action, e.clinic, e.patient,
                      e.detail});
}

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string schemaSql(Dialect d) {
  std::string s(kSchema);
  s = replaceAll(s, "{INT}", d == Dialect::kPostgres ? "BIGINT" : "INTEGER");
  s = replaceAll(s, "{BLOB}", d == Dialect::kPostgres ? "BYTEA" : "BLOB");
  if (d == Dialect::kPostgres) s += kPostgresBlobSchema;
  return s;
}

const std::vector<std::string>& storeTables() {
  // clang-format off
  static const std::vector<std::string> kTables = {
      "meta", "head", "clinics", "users", "devices", "enrolment_codes", "sessions", "patients", "patient_keys",
      "scope_changes", "ops", "rejected_ops", "conflicts", "audit", "device_audit", "fhir_sources",
      "fhir_directory", "portal_accounts", "portal_links", "portal_invitations", "portal_sessions", "note_sharing"};
  // clang-format on
  return kTables;
}

Result<std::unique_ptr<Store>> Store::open(const Config& config) {
  std::unique_ptr<Database> db;
  std::string backend;
  if (!config.postgres.empty()) {
    auto r = Database::openPostgres(config.postgres, config.dbPool);
    if (!r.isOk()) return r.status();
    db = std::move(r).value();
    backend = "postgres";
  } else {
    std::error_code ec;
    std::filesystem::create_directories(config.data, ec);
    if (ec) return Status::ioError("cannot create data folder " + config.data + ": " + ec.message());
    ::chmod(config.data.c_str(), 0700);
    auto r = Database::openSqlite((std::filesystem::path(config.data) / "charta.db").string(),
                                  std::max(2, config.dbPool / 2));
    if (!r.isOk()) return r.status();
    db = std::move(r).value();
    backend = "sqlite";
  }
  std::unique_ptr<Store> store(new Store(std::move(db), backend));
  Status s = store->init();
  if (!s.isOk()) return s;
  return store;
}

Status Store::init() {
  std::string replicaText;
  Status s = withTransaction(*m_db, true, [&](Connection& c) -> Status {
    if (c.dialect() == Dialect::kPostgres) {
      // Two processes starting together on an empty database: one creates.
      Status lock = c.exec("SELECT pg_advisory_xact_lock(7351)");
      if (!lock.isOk()) return lock;
    }
    Status st = c.execScript(schemaSql(c.dialect()));
    if (!st.isOk()) return st;
    auto version = metaValue(c, "schema_version");
    if (version.isOk()) {
      if (version.value() != std::to_string(kSchemaVersion)) {
        return Status::unsupportedVersion("the store has schema version " + version.value() +
                                          ", this server knows " + std::to_string(kSchemaVersion));
      }
    } else {
      st = setMeta(c, "schema_version", std::to_string(kSchemaVersion));
      if (st.isOk()) st = setMeta(c, "epoch", randomToken(16));
      if (st.isOk()) st = setMeta(c, "server_replica", std::to_string(randomId63()));
      if (st.isOk()) {
        st = c.exec("INSERT INTO head (id, op_seq, audit_seq, audit_hash, server_counter) "
                    "VALUES (1, 0, 0, $1, 0)",
                    std::vector<DbValue>{Blob{std::string(32, '\0')}});
      }
      if (!st.isOk()) return st;
    }
    auto replica = metaValue(c, "server_replica");
    if (!replica.isOk()) return replica.status();
    replicaText = replica.value();
    return Status::ok();
  });
  if (!s.isOk()) return s;
  m_serverReplica = std::stoull(replicaText);
  return readEpoch().status();
}

std::string Store::epoch() {
  std::lock_guard lock(m_epochMu);
  return m_epoch;
}

Result<std::string> Store::readEpoch() {
  std::string out;
  Status s = read([&](Connection& c) {
    auto v = metaValue(c, "epoch");
    if (!v.isOk()) return v.status();
    out = v.value();
    return Status::ok();
  });
  if (!s.isOk()) return s;
  std::lock_guard lock(m_epochMu);
  m_epoch = out;
  return out;
}

Status Store::read(const std::function<Status(Connection&)>& body) {
  return withTransaction(*m_db, false, body);
}

Status Store::write(const std::function<Status(WriteTx&)>& body) {
  std::set<std::string> touched;
  Status s = withTransaction(*m_db, true, [&](Connection& c) -> Status {
    touched.clear();
    const char* sql = c.dialect() == Dialect::kPostgres
                          ? "SELECT op_seq, audit_seq, audit_hash, server_counter FROM head WHERE id = 1 FOR UPDATE"
                          : "SELECT op_seq, audit_seq, audit_hash, server_counter FROM head WHERE id = 1";
    auto rows = c.query(sql);
    if (!rows.isOk()) return rows.status();
    if (rows.value().size() != 1) return Status::corruption("the store's head row is missing");
    const DbRow& r = rows.value()[0];
    Head head{dbInt(r[0]), dbInt(r[1]), dbBytes(r[2]), dbInt(r[3])};
    WriteTx tx(c, head, nowMs());
    Status st = body(tx);
    touched = tx.touched();
    if (!st.isOk()) return st;
    st = appendAudit(c, tx.head(), tx.now(), tx.pendingAudit());
    if (!st.isOk()) return st;
    return c.exec("UPDATE head SET op_seq = $1, audit_seq = $2, audit_hash = $3, server_counter = $4 WHERE id = 1",
                  std::vector<DbValue>{tx.head().opSeq, tx.head().auditSeq, Blob{tx.head().auditHash},
                                       tx.head().serverCounter});
  });
  if (!s.isOk() && !touched.empty() && m_rollbackHook) m_rollbackHook(touched);
  return s;
}

Status appendAudit(Connection& conn, Head& head, std::int64_t now, const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::ok();
  std::vector<std::vector<DbValue>> rows;
  rows.reserve(events.size());
  for (const AuditEvent& e : events) {
    std::int64_t seq = ++head.auditSeq;
    std::string hash = auditRowHash(head.auditHash, seq, now, e);
    rows.push_back({seq, now, e.user, e.device, e.address, e.action, e.clinic, e.patient,
                    e.detail.empty() ? std::string("{}") : e.detail, Blob{head.auditHash}, Blob{hash}});
    head.auditHash = std::move(hash);
  }
  auto r = conn.queryMany(
      "INSERT INTO audit (seq, at, user_id, device_id, address, action, clinic_id, patient_id, detail, "
      "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      rows);
  return r.status();
}

Result<AuditVerify> verifyAudit(Store& store) {
  AuditVerify out;
  Status s = store.read([&](Connection& c) -> Status {
    auto headRows = c.query("SELECT audit_seq, audit_hash FROM head WHERE id = 1");
    if (!headRows.isOk()) return headRows.status();
    if (headRows.value().empty()) return Status::corruption("the store's head row is missing");
    std::int64_t headSeq = dbInt(headRows.value()[0][0]);
    std::string headHash = dbBytes(headRows.value()[0][1]);
    std::string prev(32, '\0');
    std::int64_t expected = 1;
    const std::int64_t kPage = 5000;
    for (;;) {
      auto rows = c.query(
          "SELECT seq, at, user_id, device_id, address, action, clinic_id, patient_id, detail, prev_hash, "
          "hash FROM audit WHERE seq >= $1 AND seq <= $3 ORDER BY seq LIMIT $2",
          std::vector<DbValue>{expected, kPage, headSeq});
      if (!rows.isOk()) return rows.status();
      for (const DbRow& r : rows.value()) {
        std::int64_t seq = dbInt(r[0]);
        auto fail = [&](std::int64_t at, std::string why) {
          out.ok = false;
          out.firstBroken = at;
          out.problem = std::move(why);
        };
        if (seq != expected) {
          fail(expected, "audit row " + std::to_string(expected) + " is missing");
          return Status::ok();
        }
        AuditEvent e{dbText(r[2]), dbText(r[3]), dbText(r[4]), dbText(r[5]),
                     dbText(r[6]), dbText(r[7]), dbText(r[8])};
        if (dbBytes(r[9]) != prev) {
          fail(seq, "audit row " + std::to_string(seq) + " does not link to the row before it");
          return Status::ok();
        }
        std::string h = auditRowHash(prev, seq, dbInt(r[1]), e);
        if (h != dbBytes(r[10])) {
          fail(seq, "audit row " + std::to_string(seq) + " was changed after it was written");
          return Status::ok();
        }
        prev = h;
        ++out.checked;
        ++expected;
      }
      if (static_cast<std::int64_t>(rows.value().size()) < kPage) break;
    }
    if (expected - 1 != headSeq || (headSeq > 0 && prev != headHash)) {
      out.ok = false;
      out.firstBroken = expected;
      out.problem = "the chain ends at row " + std::to_string(expected - 1) + " but the store recorded " +
                    std::to_string(headSeq) + " rows: rows were removed from the end";
    }
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return out;
}

}  // namespace charta::server
