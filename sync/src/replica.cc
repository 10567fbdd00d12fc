#include "charta/sync/replica.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "attachment_store.h"
#include "bytes.h"
#include "chart_checkpoint.h"
#include "charta/crdt/op_codec.h"
#include "charta/sync/crypto.h"
#include "replica_store.h"

namespace charta::sync {

using crdt::ChartDocument;
using crdt::Op;
using crdt::OpId;

namespace {

// 2: the ledger (a sealed secret, "ledger") records the rows rewritten in
// place; a build that reads only format 1 would rewrite them without it.
constexpr int kFormatVersion = 2;
constexpr const char* kLedger = "ledger";

// Unwrapped patient keys kept in memory. Each lives in its own guarded
// allocation (a few pages and a memory mapping), so a clinic of tens of
// thousands of patients must not hold them all; unwrapping again is one
// decryption.
constexpr std::size_t kMaxCachedPatientKeys = 1024;
// Charts kept decrypted and replayed in memory between calls.
constexpr std::size_t kMaxCachedCharts = 4096;
// A chart's checkpoint is rewritten once the ops its stored checkpoint lacks
// reach this many, or an eighth of the chart's history if that is more: so
// a chart opens with at most a few dozen ops (or an eighth) to replay, and
// writing checkpoints costs a bounded share of writing ops.
constexpr std::size_t kCheckpointMinOps = 32;
constexpr std::size_t kCheckpointShare = 8;

// Op rows: where an op stands with the server.
constexpr std::int64_t kStateOutbox = 0;   // a local edit not yet acknowledged
constexpr std::int64_t kStateSettled = 1;  // acknowledged, or pulled from the server
constexpr std::int64_t kStateRefused = 2;  // the server refused it (reason sealed in note)
constexpr std::int64_t kStateRepush = 3;   // to send again after the server's restore (new epoch)

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, display_name TEXT NOT NULL, vault TEXT NOT NULL, wrap BLOB NOT NULL,
  added_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS patients (
  id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL, summary BLOB, summary_version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ops (
  replica INTEGER NOT NULL, seq INTEGER NOT NULL,
  patient TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
  state INTEGER NOT NULL, server_seq INTEGER NOT NULL DEFAULT 0, sealed BLOB NOT NULL, note BLOB,
  PRIMARY KEY (replica, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ops_patient ON ops(patient, state);
CREATE INDEX IF NOT EXISTS ops_outbox ON ops(state, replica, seq) WHERE state IN (0, 3);
CREATE TABLE IF NOT EXISTS pending_entries (patient TEXT PRIMARY KEY, cursor INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, sealed INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  patient TEXT PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE, version INTEGER NOT NULL,
  known INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS break_glass (
  patient TEXT PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE, expires_at INTEGER NOT NULL,
  sealed BLOB NOT NULL);
)sql";

// Associated data: what a sealed value is bound to.
std::string adOp(std::string_view patient, const OpId& id) {
  return "ops\x1f" + std::string(patient) + "\x1f" + crdt::toString(id);
}
std::string adOpNote(std::string_view patient, const OpId& id) {
  return "ops.note\x1f" + std::string(patient) + "\x1f" + crdt::toString(id);
}
std::string adBreakGlass(std::string_view patient) { return "break_glass\x1f" + std::string(patient); }
std::string adPatientKey(std::string_view patient) { return "patients.key\x1f" + std::string(patient); }
std::string adSummary(std::string_view patient, std::int64_t version) {
  return "patients.summary\x1f" + std::string(patient) + "\x1f" + std::to_string(version);
}
std::string adCheckpoint(std::string_view patient, std::int64_t version) {
  return "checkpoints\x1f" + std::string(patient) + "\x1f" + std::to_string(version);
}
std::string adSecret(std::string_view name) { return "secrets\x1f" + std::string(name); }
// Ledger entries: which row, and what it holds.
std::string ledgerUser(std::string_view user) { return "users\x1f" + std::string(user); }
std::string ledgerSecret(std::string_view name) { return "secrets\x1f" + std::string(name); }
std::string ledgerBreakGlass(std::string_view patient) { return "break_glass\x1f" + std::string(patient); }
std::string breakGlassRow(std::int64_t expiresAt, std::string_view sealed) {
  return std::to_string(expiresAt) + "\x1f" + std::string(sealed);
}
std::string adAudit(std::int64_t seq) { return "audit\x1f" + std::to_string(seq); }

std::string jsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string textOf(const crdt::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (std::holds_alternative<std::monostate>(v)) return {};
  return crdt::toDisplayString(v);
}

std::string shownText(const ChartDocument& doc, crdt::FieldId f) {
  const crdt::Register& r = doc.demographic(f);
  return r.empty() ? std::string() : textOf(r.current().value);
}

bool fileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The size of a file; -1 when there is none.
std::int64_t fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

// The replica's attachment files live next to it.
std::string attachmentFolder(const std::string& replicaPath) { return replicaPath + "-attachments"; }

}  // namespace

struct Replica::Impl {
  mutable std::mutex mu;
  std::unique_ptr<SqliteDb> db;
  // Attachment blobs (always encrypted, also in a benchmark's unencrypted
  // store: no benchmark measures them).
  std::unique_ptr<AttachmentStore> attachments;
  ReplicaOptions options;
  crdt::SystemWallClock systemClock;
  const crdt::WallClock* clock = nullptr;

  DeviceIdentity identity;
  std::uint64_t cursor = 0;

  // Unlocked state: zeroed by lock().
  SecretKey dataKey;
  std::string user;
  std::int64_t lastActivityMs = 0;
  std::unordered_map<std::string, SecretKey> patientKeys;
  std::unique_ptr<crdt::OpFactory> factory;
  std::unordered_map<std::string, std::unique_ptr<ChartDocument>> docs;
  // Per cached chart: how many ops (applied, rejected, held) its stored
  // checkpoint covers (0: none stored).
  std::unordered_map<std::string, std::size_t> checkpointed;
  // Expired break-glass rows the ledger does not know, already audited (the
  // purge that skips them runs again and again).
  std::set<std::string> unknownBreakGlass;

  std::int64_t nowMs() const { return static_cast<std::int64_t>(clock->nowMs()); }

  // Op rows and summaries: sealed, except in a benchmark's unencrypted store.
  std::string sealRow(const SecretKey& key, std::string_view plaintext, std::string_view ad) const {
    return options.unencryptedForBenchmark ? std::string(plaintext) : seal(key, plaintext, ad);
  }
  Result<std::string> openRow(const SecretKey& key, std::string_view stored, std::string_view ad) const {
    if (options.unencryptedForBenchmark) return std::string(stored);
    return sync::open(key, stored, ad);
  }

  // --- meta ---
  Result<std::optional<std::string>> meta(std::string_view key) {
    auto st = db->prepare("SELECT value FROM meta WHERE key = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, key);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) return std::optional<std::string>();
    return std::optional<std::string>(st.value()->text(0));
  }
  Status setMeta(std::string_view key, std::string_view value) {
    auto st = db->prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!st.isOk()) return st.status();
    return st.value()->bind(1, key).bind(2, value).run();
  }
  std::uint64_t metaU64(std::string_view key) {
    auto v = meta(key);
    if (!v.isOk() || !v.value()) return 0;
    return std::strtoull(v.value()->c_str(), nullptr, 10);
  }

  // Local edits, users, keys, audit events, purges: durable commits. What
  // the server can give back (pulled pages, acknowledgements, the sync
  // outcome): ordinary ones, which a power cut may undo but never corrupt.
  Status beginTx(bool durable = true) {
    if (Status st = db->setDurable(durable); !st.isOk()) return st;
    return db->begin();
  }

  Status requireUnlocked() const {
    if (dataKey.empty()) return Status::rejected("the replica is locked: unlock it first");
    return Status::ok();
  }

  // --- the ledger ---
  // The rows rewritten in place (each user's wrapped key, each secret, each
  // break-glass row) open alone, so an older version of one put back whole
  // from a copy of the file would open too. The ledger, a sealed secret,
  // holds a digest of what each of them holds now; it is written in the
  // transaction that writes the row, and a row that differs from its entry
  // (or has none) is refused and audited.
  using Ledger = std::map<std::string, std::string>;  // entry -> sha-256 of the row

  // nullopt when there is none yet (a replica of format 1, before its first
  // unlock by this build); kCorruption when it does not open.
  Result<std::optional<Ledger>> loadLedger() {
    auto st = db->prepare("SELECT sealed FROM secrets WHERE name = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, kLedger);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) return std::optional<Ledger>();
    auto opened = sync::open(dataKey, st.value()->text(0), adSecret(kLedger));
    if (!opened.isOk()) return Status::corruption("the replica's ledger does not open");
    Ledger ledger;
    ByteReader r(opened.value());
    std::int64_t count = 0;
    if (!r.i64(count) || count < 0) return Status::corruption("the replica's ledger is damaged");
    for (std::int64_t i = 0; i < count; ++i) {
      std::string entry, digest;
      if (!r.str(entry) || !r.str(digest)) return Status::corruption("the replica's ledger is damaged");
      ledger[entry] = std::move(digest);
    }
    if (!r.atEnd()) return Status::corruption("the replica's ledger is damaged");
    return std::optional<Ledger>(std::move(ledger));
  }
  Status saveLedger(const Ledger& ledger) {
    ByteWriter w;
    w.i64(static_cast<std::int64_t>(ledger.size()));
    for (const auto& [entry, digest] : ledger) w.str(entry).str(digest);
    auto st = db->prepare(
        "INSERT INTO secrets (name, sealed) VALUES (?1, ?2) "
        "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed");
    if (!st.isOk()) return st.status();
    return st.value()->bind(1, kLedger).bindBlob(2, seal(dataKey, w.bytes(), adSecret(kLedger))).run();
  }
  // Records (or, with `row` nullopt, forgets) what a row holds now. Inside
  // the caller's transaction; a no-op while locked (nothing is written then
  // that the ledger covers, but a forgotten session).
  Status ledgerSet(const std::string& entry, std::optional<std::string_view> row) {
    if (dataKey.empty()) return Status::ok();
    auto ledger = loadLedger();
    if (!ledger.isOk()) return ledger.status();
    Ledger l = ledger.value().value_or(Ledger{});
    if (row) {
      l[entry] = sha256Hex(*row);
    } else if (l.erase(entry) == 0) {
      return Status::ok();
    }
    return saveLedger(l);
  }
  // Whether a row holds what the ledger says (there is always a ledger once
  // unlocked); a ledger that does not load matches nothing. With the ledger
  // already loaded, for a list of rows.
  static bool ledgerMatches(const Result<std::optional<Ledger>>& ledger, const std::string& entry,
                            std::string_view row) {
    if (!ledger.isOk() || !ledger.value()) return false;
    auto it = ledger.value()->find(entry);
    return it != ledger.value()->end() && it->second == sha256Hex(row);
  }
  bool ledgerMatches(const std::string& entry, std::string_view row) { return ledgerMatches(loadLedger(), entry, row); }
  // At unlock: a replica of format 1 gets its ledger, from its rows as they
  // are; so does one whose ledger is gone or does not open (audited: the
  // rows may have been put back meanwhile).
  Status ensureLedger() {
    auto ledger = loadLedger();
    if (ledger.isOk() && ledger.value()) return Status::ok();
    if (Status s = beginTx(); !s.isOk()) return s;
    auto fail = [&](Status s) {
      db->rollback();
      return s;
    };
    if (!ledger.isOk() || metaU64("format") >= 2) tamperDetected("secrets", "", kLedger);
    Ledger l;
    const std::pair<const char*, std::string (*)(std::string_view)> sources[] = {
        {"SELECT id, wrap FROM users", ledgerUser},
        {"SELECT name, sealed FROM secrets WHERE name <> 'ledger'", ledgerSecret},
    };
    for (const auto& [sql, entryOf] : sources) {
      auto q = db->prepare(sql);
      if (!q.isOk()) return fail(q.status());
      while (true) {
        auto row = q.value()->step();
        if (!row.isOk()) return fail(row.status());
        if (!row.value()) break;
        l[entryOf(q.value()->text(0))] = sha256Hex(q.value()->text(1));
      }
    }
    auto q = db->prepare("SELECT patient, expires_at, sealed FROM break_glass");
    if (!q.isOk()) return fail(q.status());
    while (true) {
      auto row = q.value()->step();
      if (!row.isOk()) return fail(row.status());
      if (!row.value()) break;
      l[ledgerBreakGlass(q.value()->text(0))] = sha256Hex(breakGlassRow(q.value()->int64(1), q.value()->text(2)));
    }
    Status s = saveLedger(l);
    if (s.isOk()) s = setMeta("format", std::to_string(kFormatVersion));
    if (!s.isOk()) return fail(s);
    return db->commit();
  }

  // --- secrets ---
  Status putSecret(std::string_view name, std::string_view value) {
    auto st = db->prepare("INSERT INTO secrets (name, sealed) VALUES (?1, ?2) "
                          "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed");
    if (!st.isOk()) return st.status();
    const std::string sealed = seal(dataKey, value, adSecret(name));
    if (Status s = st.value()->bind(1, name).bindBlob(2, sealed).run(); !s.isOk()) return s;
    return ledgerSet(ledgerSecret(name), sealed);
  }
  Result<std::optional<std::string>> getSecret(std::string_view name) {
    auto st = db->prepare("SELECT sealed FROM secrets WHERE name = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, name);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) return std::optional<std::string>();
    const std::string sealed = st.value()->text(0);
    if (!ledgerMatches(ledgerSecret(name), sealed)) {
      tamperDetected("secrets", "", name);
      return Status::corruption("secrets row '" + std::string(name) +
                                "' is not the one this tablet last wrote (put back from an older copy?)");
    }
    auto opened = sync::open(dataKey, sealed, adSecret(name));
    if (!opened.isOk()) {
      tamperDetected("secrets", "", name);
      return Status::corruption("secrets row '" + std::string(name) + "' does not open");
    }
    return std::optional<std::string>(std::move(opened).value());
  }

  // --- audit ---
  // Events recorded while locked (failed unlocks) carry no patient data and
  // are kept unsealed; every other event is sealed with the data key.
  Status appendAudit(std::string_view action, std::string_view patient, std::string_view detail,
                     std::string_view who) {
    auto next = db->prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit");
    if (!next.isOk()) return next.status();
    auto row = next.value()->step();
    if (!row.isOk()) return row.status();
    const std::int64_t seq = next.value()->int64(0);
    ByteWriter w;
    w.i64(nowMs()).str(who).str(action).str(patient).str(detail.empty() ? "{}" : detail);
    const bool sealIt = !dataKey.empty();
    std::string payload = sealIt ? seal(dataKey, w.bytes(), adAudit(seq)) : w.bytes();
    auto ins = db->prepare("INSERT INTO audit (seq, sealed, payload) VALUES (?1, ?2, ?3)");
    if (!ins.isOk()) return ins.status();
    return ins.value()->bind(1, seq).bind(2, std::int64_t{sealIt ? 1 : 0}).bindBlob(3, payload).run();
  }
  // Outside a transaction: its own.
  Status audit(std::string_view action, std::string_view patient, std::string_view detail) {
    Status st = beginTx();
    if (!st.isOk()) return st;
    st = appendAudit(action, patient, detail, user);
    if (!st.isOk()) {
      db->rollback();
      return st;
    }
    return db->commit();
  }

  // --- break-glass copies ---
  bool isBreakGlass(const std::string& patient) {
    auto st = db->prepare("SELECT 1 FROM break_glass WHERE patient = ?1");
    if (!st.isOk()) return true;  // unsure: read-only is the safe side
    st.value()->bind(1, patient);
    auto row = st.value()->step();
    return !row.isOk() || row.value();
  }
  Status refuseBreakGlassEdit(const std::string& patient) {
    if (!isBreakGlass(patient)) return Status::ok();
    return Status::rejected("this chart was opened by break-glass from another clinic: it is read-only here");
  }

  // --- patient keys ---
  // The pointer stays valid until the next call (which may empty the cache).
  Result<const SecretKey*> patientKey(const std::string& patient, bool createIfMissing) {
    auto it = patientKeys.find(patient);
    if (it != patientKeys.end()) return &it->second;
    if (patientKeys.size() >= kMaxCachedPatientKeys) {
      for (auto& [p, k] : patientKeys) k.wipe();
      patientKeys.clear();
    }
    auto st = db->prepare("SELECT wrapped_key FROM patients WHERE id = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, patient);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (row.value()) {
      auto key = unwrapKey(dataKey, st.value()->text(0), adPatientKey(patient));
      if (!key.isOk()) {
        tamperDetected("patients.key", patient, patient);
        return Status::corruption("the key of patient " + patient + " does not open (the row was changed)");
      }
      return &patientKeys.emplace(patient, std::move(key).value()).first->second;
    }
    if (!createIfMissing) return Status::notFound("patient " + patient + " is not on this tablet");
    SecretKey key = SecretKey::random();
    auto ins = db->prepare("INSERT INTO patients (id, wrapped_key) VALUES (?1, ?2)");
    if (!ins.isOk()) return ins.status();
    Status done = ins.value()->bind(1, patient).bindBlob(2, wrapKey(dataKey, key, adPatientKey(patient))).run();
    if (!done.isOk()) return done;
    return &patientKeys.emplace(patient, std::move(key)).first->second;
  }

  // --- documents ---
  // Called at the start of a public call (never in the middle of one, which
  // may hold charts it loaded): forgets every cached chart when there are
  // too many.
  void trimCharts() {
    if (docs.size() > kMaxCachedCharts) docs.clear();
  }

  // A chart from its checkpoint and the ops stored after it, or, when there
  // is no usable checkpoint, replayed from all its ops.
  Result<ChartDocument*> loadDocument(const std::string& patient, bool mayBeNew) {
    auto it = docs.find(patient);
    if (it != docs.end()) return it->second.get();
    auto key = patientKey(patient, false);
    if (!key.isOk()) {
      if (key.status().code() == Status::Code::kNotFound && mayBeNew) {
        checkpointed[patient] = 0;
        auto doc = std::make_unique<ChartDocument>(patient);
        return docs.emplace(patient, std::move(doc)).first->second.get();
      }
      return key.status();
    }
    const SecretKey& k = *key.value();
    std::size_t covered = 0;
    std::unique_ptr<ChartDocument> doc;
    auto fromCheckpoint = loadCheckpoint(patient, k);
    if (!fromCheckpoint.isOk()) return fromCheckpoint.status();
    if (fromCheckpoint.value()) {
      doc = std::move(fromCheckpoint).value();
      covered = doc->knownCount();
    } else {
      doc = std::make_unique<ChartDocument>(patient);
      auto st = db->prepare("SELECT replica, seq, sealed FROM ops WHERE patient = ?1");
      if (!st.isOk()) return st.status();
      st.value()->bind(1, patient);
      for (;;) {
        auto row = st.value()->step();
        if (!row.isOk()) return row.status();
        if (!row.value()) break;
        Status s = applyStored(*doc, k, opIdAt(*st.value()), st.value()->text(2));
        if (!s.isOk()) return s;
      }
    }
    checkpointed[patient] = covered;
    return docs.emplace(patient, std::move(doc)).first->second.get();
  }

  static OpId opIdAt(const Statement& st) {
    return OpId{crdt::ReplicaId{static_cast<std::uint64_t>(st.int64(0))}, static_cast<std::uint64_t>(st.int64(1))};
  }

  // The sealed row of one op (a chart being opened lists its ids first).
  Result<std::string> sealedOp(const OpId& id) {
    auto one = db->prepare("SELECT sealed FROM ops WHERE replica = ?1 AND seq = ?2");
    if (!one.isOk()) return one.status();
    one.value()->bind(1, static_cast<std::int64_t>(id.replica.value)).bind(2, static_cast<std::int64_t>(id.seq));
    auto r = one.value()->step();
    if (!r.isOk()) return r.status();
    if (!r.value()) return Status::corruption("op " + crdt::toString(id) + " vanished while its chart was opened");
    return one.value()->text(0);
  }

  // Opens and decodes one stored op row of `patient`; a row that does not
  // open, or holds another op, is audited as tampering.
  Result<Op> openStored(const std::string& patient, const SecretKey& key, const OpId& id, std::string_view sealed) {
    auto opened = openRow(key, sealed, adOp(patient, id));
    if (!opened.isOk()) {
      tamperDetected("ops", patient, crdt::toString(id));
      return Status::corruption("op " + crdt::toString(id) + " of patient " + patient +
                                " does not open: the stored row was changed or moved");
    }
    auto op = crdt::decodeOp(opened.value());
    if (!op.isOk() || op.value().id != id || op.value().patient != patient) {
      tamperDetected("ops", patient, crdt::toString(id));
      return Status::corruption("op " + crdt::toString(id) + " of patient " + patient + " is damaged");
    }
    return op;
  }

  // Opens, decodes and applies one stored op row.
  Status applyStored(ChartDocument& doc, const SecretKey& key, const OpId& id, std::string_view sealed) {
    auto op = openStored(doc.patientId(), key, id, sealed);
    if (!op.isOk()) return op.status();
    auto applied = doc.apply(op.value());
    if (!applied.isOk() && applied.status().code() != Status::Code::kRejected) return applied.status();
    return Status::ok();
  }

  // --- checkpoints ---
  // The chart as its stored checkpoint has it, with the ops stored after the
  // checkpoint applied on top; nullptr when there is no usable checkpoint
  // (none, another format, or one that does not agree with the op rows). A
  // checkpoint that does not open was changed on disk: audited, and the
  // chart is replayed from its (sealed) ops instead, so nothing is lost.
  Result<std::unique_ptr<ChartDocument>> loadCheckpoint(const std::string& patient, const SecretKey& key) {
    auto st = db->prepare("SELECT version, known, sealed FROM checkpoints WHERE patient = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, patient);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) return std::unique_ptr<ChartDocument>();
    const std::int64_t version = st.value()->int64(0);
    auto opened = openRow(key, st.value()->text(2), adCheckpoint(patient, version));
    if (!opened.isOk()) {
      tamperDetected("checkpoints", patient, std::to_string(version));
      return std::unique_ptr<ChartDocument>();
    }
    // The summary, written in every transaction that writes a checkpoint,
    // names the current one: an older checkpoint row put back whole opens
    // and agrees with itself, but not with it. (A summary that does not
    // check out is audited when it is read.)
    bool summaryTampered = false;
    auto recorded = openSummary(patient, key, &summaryTampered);
    if (recorded.isOk() && recorded.value().checkpointVersion && *recorded.value().checkpointVersion != version) {
      tamperDetected("checkpoints", patient, std::to_string(version));
      return std::unique_ptr<ChartDocument>();
    }
    auto decoded = decodeCheckpoint(opened.value(), patient);
    if (!decoded.isOk()) return std::unique_ptr<ChartDocument>();  // a cache of another build: rebuilt
    auto doc = std::make_unique<ChartDocument>(std::move(decoded).value());
    // Which stored ops the checkpoint lacks: the op ids are in the clear
    // (an index scan, nothing to open). Ops are only ever removed with their
    // patient, so a checkpoint that knows ops the table lacks is not this
    // replica's (or the file was cut): replay instead.
    // Ops the server refused are never sent again: the checkpoint is the only
    // read that could meet them, so they are opened here (they are few), and
    // one that was changed on disk does not wait for a replay to be found.
    std::vector<OpId> later, refused;
    std::size_t knownRows = 0;
    auto ids = db->prepare("SELECT replica, seq, state FROM ops WHERE patient = ?1");
    if (!ids.isOk()) return ids.status();
    ids.value()->bind(1, patient);
    for (;;) {
      auto r = ids.value()->step();
      if (!r.isOk()) return r.status();
      if (!r.value()) break;
      const OpId id = opIdAt(*ids.value());
      if (doc->knows(id)) {
        ++knownRows;
        if (ids.value()->int64(2) == kStateRefused) refused.push_back(id);
      } else {
        later.push_back(id);
      }
    }
    if (knownRows != doc->knownCount()) return std::unique_ptr<ChartDocument>();
    for (const OpId& id : refused) {
      auto sealed = sealedOp(id);
      if (!sealed.isOk()) return sealed.status();
      if (auto op = openStored(patient, key, id, sealed.value()); !op.isOk()) return op.status();
    }
    if (later.empty()) return doc;
    for (const OpId& id : later) {
      auto sealed = sealedOp(id);
      if (!sealed.isOk()) return sealed.status();
      if (Status s = applyStored(*doc, key, id, sealed.value()); !s.isOk()) return s;
    }
    return doc;
  }

  bool checkpointDue(const std::string& patient, const ChartDocument& doc) const {
    auto it = checkpointed.find(patient);
    const std::size_t covered = it == checkpointed.end() ? 0 : it->second;
    const std::size_t known = doc.knownCount();
    if (known <= covered) return false;
    return known - covered >= std::max(kCheckpointMinOps, known / kCheckpointShare);
  }

  Status writeCheckpoint(const std::string& patient, const ChartDocument& doc) {
    auto key = patientKey(patient, false);
    if (!key.isOk()) return key.status();
    auto stored = checkpointVersion(patient);
    if (!stored.isOk()) return stored.status();
    const std::int64_t version = stored.value() + 1;
    auto up = db->prepare(
        "INSERT INTO checkpoints (patient, version, known, sealed) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (patient) "
        "DO UPDATE SET version = excluded.version, known = excluded.known, sealed = excluded.sealed");
    if (!up.isOk()) return up.status();
    Status s = up.value()
                   ->bind(1, patient)
                   .bind(2, version)
                   .bind(3, static_cast<std::int64_t>(doc.knownCount()))
                   .bindBlob(4, sealRow(*key.value(), encodeCheckpoint(doc), adCheckpoint(patient, version)))
                   .run();
    if (s.isOk()) checkpointed[patient] = doc.knownCount();
    return s;
  }

  // What the rest of the replica derives from a chart, rewritten in the
  // transaction that changed it: the checkpoint when due, the summary always
  // (it records the checkpoint's version, so an older checkpoint row put
  // back is told from the current one).
  Status saveDerived(const std::string& patient, const ChartDocument& doc) {
    Status s = checkpointDue(patient, doc) ? writeCheckpoint(patient, doc) : Status::ok();
    if (s.isOk()) s = writeSummary(patient, doc);
    if (!s.isOk()) checkpointed.erase(patient);  // rolled back with the transaction
    return s;
  }

  // The version of the patient's stored checkpoint (0: none).
  Result<std::int64_t> checkpointVersion(const std::string& patient) {
    auto ver = db->prepare("SELECT version FROM checkpoints WHERE patient = ?1");
    if (!ver.isOk()) return ver.status();
    ver.value()->bind(1, patient);
    auto row = ver.value()->step();
    if (!row.isOk()) return row.status();
    return row.value() ? ver.value()->int64(0) : std::int64_t{0};
  }

  // After a chart was opened for reading: a chart that replayed many ops
  // (a replica written before checkpoints, or by a build of another
  // format) gets its checkpoint now, in a transaction of its own. A cache:
  // failing to write it changes nothing else.
  void checkpointAfterRead(const std::string& patient) {
    auto it = docs.find(patient);
    if (it == docs.end() || !checkpointDue(patient, *it->second)) return;
    if (!beginTx(false).isOk()) return;
    if (writeCheckpoint(patient, *it->second).isOk() && writeSummary(patient, *it->second).isOk() &&
        db->commit().isOk()) {
      return;
    }
    db->rollback();
    checkpointed.erase(patient);
  }

  // A failed open is audited (best effort: in its own transaction when none
  // is open; inside the caller's otherwise, and lost with its rollback, which
  // is why callers report the error to the person too).
  void tamperDetected(std::string_view table, std::string_view patient, std::string_view row) {
    const std::string detail = "{\"table\":" + jsonQuote(table) + ",\"row\":" + jsonQuote(row) + "}";
    (void)appendAudit("replica.tamper_detected", patient, detail, user);
  }

  // --- summaries ---
  // Every user who authored something shown in the chart: demographics,
  // entries and their fields, observations, notes, signatures and addenda.
  static std::set<std::string> chartedBy(const ChartDocument& doc) {
    std::set<std::string> users;
    auto heads = [&](const crdt::Register& r) {
      for (const auto& w : r.heads()) users.insert(w.author);
    };
    for (const auto& [f, r] : doc.demographics()) heads(r);
    for (std::uint8_t c = 1; c < crdt::kCollectionCount; ++c) {
      for (const auto& [id, e] : doc.entries(static_cast<crdt::Collection>(c))) {
        users.insert(e.author);
        heads(e.status);
        for (const auto& [f, r] : e.fields) heads(r);
      }
    }
    for (const auto& [id, o] : doc.observations()) users.insert(o.author);
    for (const auto& [id, n] : doc.notes()) {
      users.insert(n.author);
      for (const auto& [aid, a] : n.addenda) users.insert(a.author);
    }
    users.erase(std::string());
    return users;
  }

  Status writeSummary(const std::string& patient, const ChartDocument& doc) {
    auto key = patientKey(patient, false);
    if (!key.isOk()) return key.status();
    ByteWriter w;
    w.str(shownText(doc, crdt::field::kFamilyName))
        .str(shownText(doc, crdt::field::kGivenNames))
        .str(shownText(doc, crdt::field::kBirthDate))
        .str(shownText(doc, crdt::field::kSex));
    const crdt::Register& nka = doc.demographic(crdt::field::kNoKnownAllergies);
    std::int64_t nkaState = 0;  // 0 not recorded, 1 no known allergies, 2 has allergies recorded as such
    if (!nka.empty()) {
      if (const auto* b = std::get_if<bool>(&nka.current().value)) nkaState = *b ? 1 : 2;
    }
    w.i64(nkaState);
    std::vector<std::string> identifiers;
    for (const auto& [id, entry] : doc.entries(crdt::Collection::kIdentifiers)) {
      if (entry.currentStatus() == static_cast<std::int64_t>(crdt::EntryStatus::kEnteredInError)) continue;
      identifiers.push_back(textOf(entry.fieldValue(crdt::field::kIdentifierSystem)) + "|" +
                            textOf(entry.fieldValue(crdt::field::kIdentifierValue)));
    }
    w.u64(identifiers.size());
    for (const auto& s : identifiers) w.str(s);
    std::vector<std::string> allergies;
    for (const auto& [id, entry] : doc.entries(crdt::Collection::kAllergies)) {
      if (entry.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kActive)) continue;
      std::string display = textOf(entry.fieldValue(crdt::field::kDisplay));
      if (display.empty()) display = textOf(entry.fieldValue(crdt::field::kCode));
      allergies.push_back(display);
    }
    w.u64(allergies.size());
    for (const auto& s : allergies) w.str(s);
    w.u64(doc.appliedCount() + doc.rejected().size() + doc.heldCount());
    w.u64(doc.conflictCount());
    w.u64(doc.heldCount());
    // Who charted here (a trailing field: summaries written before it have none).
    const std::set<std::string> charted = chartedBy(doc);
    w.u64(charted.size());
    for (const auto& u : charted) w.str(u);
    // The summary's own version and that of the checkpoint written with it
    // (recorded as a trailing field too), in one read.
    auto ver = db->prepare(
        "SELECT p.summary_version, COALESCE(c.version, 0) FROM patients p "
        "LEFT JOIN checkpoints c ON c.patient = p.id WHERE p.id = ?1");
    if (!ver.isOk()) return ver.status();
    ver.value()->bind(1, patient);
    auto row = ver.value()->step();
    if (!row.isOk()) return row.status();
    w.i64(row.value() ? ver.value()->int64(1) : 0);
    const std::int64_t version = (row.value() ? ver.value()->int64(0) : 0) + 1;
    auto up = db->prepare("UPDATE patients SET summary = ?2, summary_version = ?3 WHERE id = ?1");
    if (!up.isOk()) return up.status();
    return up.value()
        ->bind(1, patient)
        .bindBlob(2, sealRow(*key.value(), w.bytes(), adSummary(patient, version)))
        .bind(3, version)
        .run();
  }

  // The patient's summary row, opened and checked against the op rows.
  // *tampered: the row does not open, or is an older copy put back (it
  // counts fewer ops than are stored); the caller audits it.
  struct StoredSummary {
    PatientSummary summary;
    std::optional<std::int64_t> checkpointVersion;  // absent in summaries of older builds
  };
  Result<StoredSummary> openSummary(const std::string& patient, const SecretKey& key, bool* tampered) {
    *tampered = false;
    auto st = db->prepare("SELECT summary, summary_version FROM patients WHERE id = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, patient);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value() || st.value()->isNull(0)) return Status::notFound("patient " + patient + " has no chart yet");
    auto opened = openRow(key, st.value()->text(0), adSummary(patient, st.value()->int64(1)));
    if (!opened.isOk()) {
      *tampered = true;
      return Status::corruption("the summary of patient " + patient + " does not open: the stored row was changed");
    }
    StoredSummary stored;
    PatientSummary& out = stored.summary;
    out.patient = patient;
    ByteReader r(opened.value());
    std::int64_t nka = 0;
    std::uint64_t n = 0;
    bool ok = r.str(out.familyName) && r.str(out.givenNames) && r.str(out.birthDate) && r.str(out.sex) && r.i64(nka) &&
              r.u64(n);
    for (std::uint64_t i = 0; ok && i < n; ++i) ok = r.str(out.identifiers.emplace_back());
    ok = ok && r.u64(n);
    for (std::uint64_t i = 0; ok && i < n; ++i) ok = r.str(out.allergies.emplace_back());
    ok = ok && r.u64(out.opCount) && r.u64(out.openConflicts) && r.u64(out.heldOps);
    // Trailing fields, absent in summaries written by older builds.
    if (ok && !r.atEnd()) {
      ok = r.u64(n);
      for (std::uint64_t i = 0; ok && i < n; ++i) ok = r.str(out.chartedBy.emplace_back());
    }
    if (ok && !r.atEnd()) {
      std::int64_t version = 0;
      ok = r.i64(version);
      stored.checkpointVersion = version;
    }
    ok = ok && r.atEnd();
    if (!ok) return Status::corruption("the summary of patient " + patient + " is damaged");
    if (nka != 0) out.noKnownAllergies = nka == 1;
    // A replayed (older) summary opens, but counts fewer ops than are stored.
    auto count = db->prepare("SELECT COUNT(*), COALESCE(SUM(state IN (0, 3)), 0) FROM ops WHERE patient = ?1");
    if (!count.isOk()) return count.status();
    count.value()->bind(1, patient);
    auto crow = count.value()->step();
    if (!crow.isOk()) return crow.status();
    if (static_cast<std::uint64_t>(count.value()->int64(0)) != out.opCount) {
      *tampered = true;
      return Status::corruption("the summary of patient " + patient +
                                " does not match its history (an old copy of the row was put back)");
    }
    out.pendingOps = static_cast<std::uint64_t>(count.value()->int64(1));
    return stored;
  }

  // *inserted (when given) says whether the op was new; without it a
  // duplicate is an error.
  Status insertOp(const Op& op, std::string_view encoded, std::int64_t state, bool* inserted = nullptr) {
    auto key = patientKey(op.patient, true);
    if (!key.isOk()) return key.status();
    auto ins = db->prepare(inserted ? "INSERT INTO ops (replica, seq, patient, state, sealed) VALUES "
                                      "(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"
                                    : "INSERT INTO ops (replica, seq, patient, state, sealed) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!ins.isOk()) return ins.status();
    if (inserted) {
      Status st = ins.value()
                      ->bind(1, static_cast<std::int64_t>(op.id.replica.value))
                      .bind(2, static_cast<std::int64_t>(op.id.seq))
                      .bind(3, op.patient)
                      .bind(4, state)
                      .bindBlob(5, sealRow(*key.value(), encoded, adOp(op.patient, op.id)))
                      .run();
      *inserted = st.isOk() && db->changes() > 0;
      return st;
    }
    return ins.value()
        ->bind(1, static_cast<std::int64_t>(op.id.replica.value))
        .bind(2, static_cast<std::int64_t>(op.id.seq))
        .bind(3, op.patient)
        .bind(4, state)
        .bindBlob(5, sealRow(*key.value(), encoded, adOp(op.patient, op.id)))
        .run();
  }

  Status loadIdentity() {
    Impl& impl = *this;
    auto get = [&](const char* key, std::string& out) -> Status {
      auto v = impl.meta(key);
      if (!v.isOk()) return v.status();
      if (!v.value()) return Status::corruption(std::string("the replica's metadata lacks ") + key);
      out = *v.value();
      return Status::ok();
    };
    std::string replica;
    for (auto [key, out] : {std::pair{"server_url", &impl.identity.serverUrl},
                            std::pair{"device_id", &impl.identity.deviceId}, std::pair{"replica", &replica},
                            std::pair{"clinic", &impl.identity.clinic}, std::pair{"epoch", &impl.identity.epoch}}) {
      if (Status st = get(key, *out); !st.isOk()) return st;
    }
    impl.identity.replica = crdt::ReplicaId{std::strtoull(replica.c_str(), nullptr, 10)};
    impl.cursor = impl.metaU64("cursor");
    return Status::ok();
  }

  void wipeKeys() {
    if (attachments) attachments->forgetWriters();
    dataKey.wipe();
    for (auto& [p, k] : patientKeys) k.wipe();
    patientKeys.clear();
    docs.clear();
    factory.reset();
    user.clear();
  }

  Status startFactory() {
    auto st = db->prepare("SELECT COALESCE(MAX(seq), 0) FROM ops WHERE replica = ?1");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, static_cast<std::int64_t>(identity.replica.value));
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    const auto maxSeq = static_cast<std::uint64_t>(st.value()->int64(0));
    // Keep numbering past every seq ever handed out, even one whose edit was
    // refused by the chart and never stored.
    const std::uint64_t issued = metaU64("issued_seq");
    factory = std::make_unique<crdt::OpFactory>(identity.replica, *clock, std::max(maxSeq, issued) + 1);
    factory->setUser(user);
    // The clock never runs behind stamps this device already issued.
    const std::uint64_t hlcWall = metaU64("hlc_wall");
    if (hlcWall > 0) {
      (void)factory->observe(crdt::Hlc{hlcWall, static_cast<std::uint32_t>(metaU64("hlc_logical"))});
    }
    return Status::ok();
  }
};

Replica::Replica(std::string path, std::unique_ptr<Impl> impl) : m_path(std::move(path)), m_impl(std::move(impl)) {}

Replica::~Replica() {
  if (m_impl) m_impl->wipeKeys();
}

Result<std::unique_ptr<Replica>> Replica::create(const std::string& path, const DeviceIdentity& identity,
                                                 std::string_view deviceSecret, KeyVault& vault,
                                                 const UserInfo& firstUser, std::string_view passphrase,
                                                 ReplicaOptions options) {
  if (Status st = initCrypto(); !st.isOk()) return st;
  if (identity.replica.isNull() || identity.deviceId.empty() || identity.clinic.empty()) {
    return Status::invalidArgument("a replica needs the device id, replica id and clinic from enrolment");
  }
  if (firstUser.id.empty()) return Status::invalidArgument("a replica needs its first user");
  if (fileExists(path)) return Status::alreadyExists("a replica already exists at " + path);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock ? options.clock : &impl->systemClock;
  SecretKey dataKey = SecretKey::random();
  auto wrapped = vault.wrap(firstUser.id, passphrase, dataKey);
  if (!wrapped.isOk()) return wrapped.status();
  auto db = SqliteDb::open(path, true);
  if (!db.isOk()) return db.status();
  impl->db = std::move(db).value();
  impl->identity = identity;
  impl->dataKey = std::move(dataKey);
  impl->user = firstUser.id;
  auto fail = [&](Status st) -> Result<std::unique_ptr<Replica>> {
    impl->db->rollback();
    impl->wipeKeys();
    impl->db.reset();
    (void)Replica::destroy(path);
    return st;
  };
  Status st = impl->db->exec(kSchema);
  if (st.isOk()) st = impl->db->exec(AttachmentStore::schema());
  if (!st.isOk()) return fail(st);
  impl->attachments = std::make_unique<AttachmentStore>(*impl->db, attachmentFolder(path));
  st = impl->beginTx();
  if (!st.isOk()) return fail(st);
  const std::pair<const char*, std::string> metas[] = {
      {"format", std::to_string(kFormatVersion)},
      {"server_url", identity.serverUrl},
      {"device_id", identity.deviceId},
      {"replica", std::to_string(identity.replica.value)},
      {"clinic", identity.clinic},
      {"epoch", identity.epoch},
      {"cursor", "0"},
      {"unencrypted_for_benchmark", options.unencryptedForBenchmark ? "1" : "0"},
  };
  for (const auto& [k, v] : metas) {
    st = impl->setMeta(k, v);
    if (!st.isOk()) return fail(st);
  }
  auto ins = impl->db->prepare("INSERT INTO users (id, display_name, vault, wrap, added_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!ins.isOk()) return fail(ins.status());
  st = ins.value()
           ->bind(1, firstUser.id)
           .bind(2, firstUser.displayName)
           .bind(3, vault.name())
           .bindBlob(4, wrapped.value())
           .bind(5, impl->nowMs())
           .run();
  if (st.isOk()) st = impl->ledgerSet(ledgerUser(firstUser.id), wrapped.value());
  if (!st.isOk()) return fail(st);
  st = impl->putSecret("device_secret", deviceSecret);
  if (!st.isOk()) return fail(st);
  st = impl->appendAudit("replica.created", "", "{}", firstUser.id);
  if (!st.isOk()) return fail(st);
  st = impl->db->commit();
  if (!st.isOk()) return fail(st);
  st = impl->startFactory();
  if (!st.isOk()) return fail(st);
  impl->lastActivityMs = impl->nowMs();
  return std::unique_ptr<Replica>(new Replica(path, std::move(impl)));
}

Result<std::unique_ptr<Replica>> Replica::open(const std::string& path, ReplicaOptions options) {
  if (Status st = initCrypto(); !st.isOk()) return st;
  if (!fileExists(path)) return Status::notFound("no replica at " + path + " (enrol this device first)");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock ? options.clock : &impl->systemClock;
  // Without a write-ahead log (or with an empty one) every page of the
  // database is in the file: a file shorter than its own page count says
  // was cut, and pages past the cut would read as zeros, or not be read at
  // all, without an error.
  const std::int64_t walBytes = fileSize(path + "-wal");
  auto db = SqliteDb::open(path, false);
  if (!db.isOk()) return db.status();
  impl->db = std::move(db).value();
  if (walBytes <= 0) {
    std::int64_t pages = 0, pageBytes = 0;
    for (auto [pragma, out] : {std::pair{"PRAGMA page_count", &pages}, std::pair{"PRAGMA page_size", &pageBytes}}) {
      auto st = impl->db->prepare(pragma);
      if (!st.isOk()) return Status::corruption("the file at " + path + " is not a Charta replica");
      auto row = st.value()->step();
      if (!row.isOk() || !row.value()) return Status::corruption("the file at " + path + " is not a Charta replica");
      *out = st.value()->int64(0);
    }
    if (pages * pageBytes > fileSize(path)) {
      return Status::corruption("the replica at " + path + " was cut short: it has " + std::to_string(fileSize(path)) +
                                " of its " + std::to_string(pages * pageBytes) + " bytes");
    }
  }
  auto format = impl->meta("format");
  if (!format.isOk()) {
    return Status::corruption("the file at " + path + " is not a Charta replica: " + format.status().message());
  }
  if (!format.value()) return Status::corruption("the file at " + path + " is not a Charta replica");
  const int version = std::atoi(format.value()->c_str());
  if (version > kFormatVersion) {
    return Status::unsupportedVersion("the replica at " + path + " has format " + *format.value() +
                                      "; this Charta reads format " + std::to_string(kFormatVersion) +
                                      " and older: update the app");
  }
  if (Status st = impl->db->exec(kSchema); !st.isOk()) return st;
  if (Status st = impl->db->exec(AttachmentStore::schema()); !st.isOk()) return st;
  if (Status st = impl->loadIdentity(); !st.isOk()) return st;
  impl->attachments = std::make_unique<AttachmentStore>(*impl->db, attachmentFolder(path));
  // Leftovers of a crash or of a purge cut short; a cleanup, so a failure
  // does not keep the replica closed.
  (void)impl->attachments->sweep();
  const bool unencrypted = impl->metaU64("unencrypted_for_benchmark") == 1;
  if (unencrypted != options.unencryptedForBenchmark) {
    return Status::invalidArgument(unencrypted ? "the replica at " + path + " is an unencrypted benchmark store"
                                               : "the replica at " + path + " is encrypted");
  }
  return std::unique_ptr<Replica>(new Replica(path, std::move(impl)));
}


Status Replica::destroy(const std::string& path) {
  Status result;
  for (const std::string& p : {path, path + "-wal", path + "-shm", path + "-journal"}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      result = Status::ioError("cannot delete " + p + ": " + std::strerror(errno));
    }
  }
  const std::string folder = attachmentFolder(path);
  if (DIR* dir = ::opendir(folder.c_str())) {
    std::vector<std::string> files;
    while (const dirent* e = ::readdir(dir)) {
      const std::string file = e->d_name;
      if (file != "." && file != "..") files.push_back(folder + "/" + file);
    }
    ::closedir(dir);
    for (const std::string& f : files) {
      if (::unlink(f.c_str()) != 0 && errno != ENOENT) {
        result = Status::ioError("cannot delete " + f + ": " + std::strerror(errno));
      }
    }
    if (::rmdir(folder.c_str()) != 0 && errno != ENOENT) {
      result = Status::ioError("cannot delete " + folder + ": " + std::strerror(errno));
    }
  }
  return result;
}

DeviceIdentity Replica::identity() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->identity;
}

std::vector<UserInfo> Replica::users() const {
  std::lock_guard lock(m_impl->mu);
  std::vector<UserInfo> out;
  auto st = m_impl->db->prepare("SELECT id, display_name, vault, added_at FROM users ORDER BY id");
  if (!st.isOk()) return out;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk() || !row.value()) break;
    out.push_back(UserInfo{st.value()->text(0), st.value()->text(1), st.value()->text(2), st.value()->int64(3)});
  }
  return out;
}

Status Replica::unlock(KeyVault& vault, std::string_view user, std::string_view passphrase) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  auto st = d.db->prepare("SELECT wrap FROM users WHERE id = ?1");
  if (!st.isOk()) return st.status();
  st.value()->bind(1, user);
  auto row = st.value()->step();
  if (!row.isOk()) return row.status();
  if (!row.value()) return Status::notFound("no user '" + std::string(user) + "' on this tablet");
  const std::string wrap = st.value()->text(0);
  auto key = vault.unwrap(user, passphrase, wrap);
  if (!key.isOk()) {
    d.wipeKeys();
    Status audited = d.beginTx();
    if (audited.isOk()) {
      audited = d.appendAudit("replica.unlock_failed", "", "{}", user);
      if (audited.isOk()) audited = d.db->commit();
      if (!audited.isOk()) d.db->rollback();
    }
    return key.status();
  }
  d.wipeKeys();
  d.dataKey = std::move(key).value();
  d.user = std::string(user);
  if (Status s = d.ensureLedger(); !s.isOk()) {
    d.wipeKeys();
    return s;
  }
  // The passphrase opened this wrapped key; is it the one this tablet last
  // wrote for this user (not one from before a passphrase change)?
  if (!d.ledgerMatches(ledgerUser(user), wrap)) {
    (void)d.audit("replica.tamper_detected", "", "{\"table\":\"users\",\"row\":" + jsonQuote(user) + "}");
    d.wipeKeys();
    return Status::corruption("the stored key of user '" + std::string(user) +
                              "' is not the one this tablet last wrote (put back from an older copy?): unlock refused");
  }
  if (Status s = d.startFactory(); !s.isOk()) {
    d.wipeKeys();
    return s;
  }
  d.lastActivityMs = d.nowMs();
  return d.audit("replica.unlock", "", "{}");
}

void Replica::lock() {
  std::lock_guard lock(m_impl->mu);
  m_impl->wipeKeys();
}

bool Replica::isUnlocked() const {
  std::lock_guard lock(m_impl->mu);
  return !m_impl->dataKey.empty();
}

std::string Replica::currentUser() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->user;
}

bool Replica::touch() {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (d.dataKey.empty()) return false;
  const std::int64_t now = d.nowMs();
  if (d.options.autoLockMs > 0 && now - d.lastActivityMs >= d.options.autoLockMs) {
    d.wipeKeys();
    return false;
  }
  d.lastActivityMs = now;
  return true;
}

Status Replica::addUser(KeyVault& vault, const UserInfo& user, std::string_view passphrase) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  if (user.id.empty()) return Status::invalidArgument("a user needs an id");
  auto wrapped = vault.wrap(user.id, passphrase, d.dataKey);
  if (!wrapped.isOk()) return wrapped.status();
  if (Status s = d.beginTx(); !s.isOk()) return s;
  auto ins = d.db->prepare("INSERT INTO users (id, display_name, vault, wrap, added_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  Status s = ins.isOk() ? ins.value()
                              ->bind(1, user.id)
                              .bind(2, user.displayName)
                              .bind(3, vault.name())
                              .bindBlob(4, wrapped.value())
                              .bind(5, d.nowMs())
                              .run()
                        : ins.status();
  if (s.code() == Status::Code::kAlreadyExists) s = Status::alreadyExists("user '" + user.id + "' is already on this tablet");
  if (s.isOk()) s = d.ledgerSet(ledgerUser(user.id), wrapped.value());
  if (s.isOk()) s = d.appendAudit("replica.user_added", "", "{\"user\":" + jsonQuote(user.id) + "}", d.user);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  return d.db->commit();
}

Status Replica::changePassphrase(KeyVault& vault, std::string_view oldPassphrase, std::string_view newPassphrase) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  auto st = d.db->prepare("SELECT wrap FROM users WHERE id = ?1");
  if (!st.isOk()) return st.status();
  st.value()->bind(1, d.user);
  auto row = st.value()->step();
  if (!row.isOk()) return row.status();
  if (!row.value()) return Status::notFound("the current user is not on this tablet");
  auto check = vault.unwrap(d.user, oldPassphrase, st.value()->text(0));
  if (!check.isOk()) return check.status();
  auto wrapped = vault.wrap(d.user, newPassphrase, d.dataKey);
  if (!wrapped.isOk()) return wrapped.status();
  if (Status s = d.beginTx(); !s.isOk()) return s;
  auto up = d.db->prepare("UPDATE users SET wrap = ?2, vault = ?3 WHERE id = ?1");
  Status s = up.isOk() ? up.value()->bind(1, d.user).bindBlob(2, wrapped.value()).bind(3, vault.name()).run()
                       : up.status();
  if (s.isOk()) s = d.ledgerSet(ledgerUser(d.user), wrapped.value());
  if (s.isOk()) s = d.appendAudit("replica.passphrase_changed", "", "{}", d.user);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  return d.db->commit();
}

Result<std::string> Replica::deviceSecret() const {
  std::lock_guard lock(m_impl->mu);
  if (Status s = m_impl->requireUnlocked(); !s.isOk()) return s;
  auto v = m_impl->getSecret("device_secret");
  if (!v.isOk()) return v.status();
  if (!v.value()) return Status::corruption("the replica lost its device credential");
  return *v.value();
}

Result<std::optional<Session>> Replica::session(std::string_view user) const {
  std::lock_guard lock(m_impl->mu);
  if (Status s = m_impl->requireUnlocked(); !s.isOk()) return s;
  auto v = m_impl->getSecret("session:" + std::string(user));
  if (!v.isOk()) return v.status();
  if (!v.value()) return std::optional<Session>();
  ByteReader r(*v.value());
  Session s;
  if (!r.str(s.token) || !r.i64(s.expiresAtMs) || !r.str(s.userId) || !r.str(s.displayName) || !r.str(s.role) ||
      !r.str(s.clinic) || !r.atEnd()) {
    return Status::corruption("the stored session of " + std::string(user) + " is damaged");
  }
  return std::optional<Session>(std::move(s));
}

Status Replica::storeSession(const Session& session) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  ByteWriter w;
  w.str(session.token).i64(session.expiresAtMs).str(session.userId).str(session.displayName).str(session.role).str(
      session.clinic);
  return d.putSecret("session:" + session.userId, w.bytes());
}

Status Replica::forgetSession(std::string_view user) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  const std::string name = "session:" + std::string(user);
  if (Status s = d.beginTx(); !s.isOk()) return s;
  auto st = d.db->prepare("DELETE FROM secrets WHERE name = ?1");
  Status s = st.isOk() ? st.value()->bind(1, name).run() : st.status();
  if (s.isOk()) s = d.ledgerSet(ledgerSecret(name), std::nullopt);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  return d.db->commit();
}

std::vector<std::string> Replica::patients() const {
  std::lock_guard lock(m_impl->mu);
  std::vector<std::string> out;
  auto st = m_impl->db->prepare("SELECT id FROM patients ORDER BY id");
  if (!st.isOk()) return out;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk() || !row.value()) break;
    out.push_back(st.value()->text(0));
  }
  return out;
}

std::map<std::string, std::string> Replica::chartMarks() const {
  std::lock_guard lock(m_impl->mu);
  std::map<std::string, std::string> out;
  auto st = m_impl->db->prepare(
      "SELECT id, summary_version, wrapped_key FROM patients WHERE summary IS NOT NULL "
      "AND id NOT IN (SELECT patient FROM break_glass)");
  if (!st.isOk()) return out;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk() || !row.value()) break;
    out.emplace(st.value()->text(0), std::to_string(st.value()->int64(1)) + "/" + st.value()->text(2));
  }
  return out;
}

Result<PatientSummary> Replica::summary(std::string_view patientView) const {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  bool tampered = false;
  auto stored = d.openSummary(patient, *key.value(), &tampered);
  if (!stored.isOk()) {
    if (tampered) d.tamperDetected("patients.summary", patient, patient);
    return stored.status();
  }
  return std::move(stored).value().summary;
}

Result<const ChartDocument*> Replica::chart(std::string_view patientView, std::string_view purpose) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto doc = d.loadDocument(patient, false);
  if (!doc.isOk()) return doc.status();
  d.checkpointAfterRead(patient);
  Status s = d.audit("chart.read", patient, "{\"purpose\":" + jsonQuote(purpose) + "}");
  if (!s.isOk()) return s;  // no read without its audit event
  d.lastActivityMs = d.nowMs();
  return static_cast<const ChartDocument*>(doc.value());
}

Result<const ChartDocument*> Replica::document(std::string_view patientView) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto doc = d.loadDocument(patient, false);
  if (!doc.isOk()) return doc.status();
  d.checkpointAfterRead(patient);
  return static_cast<const ChartDocument*>(doc.value());
}

Result<ChartDocument> Replica::chartCopy(std::string_view patientView, std::string_view purpose) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto doc = d.loadDocument(patient, false);
  if (!doc.isOk()) return doc.status();
  d.checkpointAfterRead(patient);
  if (!purpose.empty()) {
    Status s = d.audit("chart.read", patient, "{\"purpose\":" + jsonQuote(purpose) + "}");
    if (!s.isOk()) return s;  // no read without its audit event
  }
  d.lastActivityMs = d.nowMs();
  return ChartDocument(*doc.value());
}

Result<Op> Replica::edit(std::string_view patientView, const MakeOp& make) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  if (patient.empty() || patient.size() > crdt::kMaxIdBytes) {
    return Status::invalidArgument("a patient id is 1 to " + std::to_string(crdt::kMaxIdBytes) + " bytes");
  }
  if (Status s = d.refuseBreakGlassEdit(patient); !s.isOk()) return s;
  auto docResult = d.loadDocument(patient, true);
  if (!docResult.isOk()) return docResult.status();
  ChartDocument* doc = docResult.value();
  Op op = make(*d.factory, *doc);
  if (op.patient != patient || op.id.replica != d.identity.replica) {
    return Status::invalidArgument("the edit made an op for another patient or replica");
  }
  auto discard = [&](Status st) -> Result<Op> {
    d.db->rollback();
    d.docs.erase(patient);  // the cached chart may hold the refused op: reload it
    d.patientKeys.erase(patient);
    return st;
  };
  if (Status s = d.beginTx(); !s.isOk()) return s;
  const std::string encoded = crdt::encodeOp(op);
  Status s = d.insertOp(op, encoded, kStateOutbox);
  if (!s.isOk()) return discard(s);
  s = d.setMeta("issued_seq", std::to_string(op.id.seq));
  if (!s.isOk()) return discard(s);
  auto applied = doc->apply(op);
  if (!applied.isOk()) return discard(applied.status());
  s = d.saveDerived(patient, *doc);
  if (s.isOk()) s = d.setMeta("hlc_wall", std::to_string(op.hlc.wallMs));
  if (s.isOk()) s = d.setMeta("hlc_logical", std::to_string(op.hlc.logical));
  if (!s.isOk()) return discard(s);
  s = d.db->commit();
  if (!s.isOk()) return discard(s);
  d.lastActivityMs = d.nowMs();
  return op;
}

Result<std::vector<Op>> Replica::editBatch(std::string_view patientView, const std::vector<MakeOp>& makes) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  if (patient.empty() || patient.size() > crdt::kMaxIdBytes) {
    return Status::invalidArgument("a patient id is 1 to " + std::to_string(crdt::kMaxIdBytes) + " bytes");
  }
  if (Status s = d.refuseBreakGlassEdit(patient); !s.isOk()) return s;
  std::vector<Op> ops;
  if (makes.empty()) return ops;
  auto docResult = d.loadDocument(patient, true);
  if (!docResult.isOk()) return docResult.status();
  ChartDocument* doc = docResult.value();
  // Ops already applied to the cached chart are undone by reloading it.
  auto discard = [&](Status st) -> Result<std::vector<Op>> {
    d.db->rollback();
    d.docs.erase(patient);
    d.patientKeys.erase(patient);
    return st;
  };
  if (Status s = d.beginTx(); !s.isOk()) return s;
  ops.reserve(makes.size());
  for (const MakeOp& make : makes) {
    Op op = make(*d.factory, *doc);
    if (op.patient != patient || op.id.replica != d.identity.replica) {
      return discard(Status::invalidArgument("the edit made an op for another patient or replica"));
    }
    const std::string encoded = crdt::encodeOp(op);
    Status s = d.insertOp(op, encoded, kStateOutbox);
    if (!s.isOk()) return discard(s);
    auto applied = doc->apply(op);
    if (!applied.isOk()) {
      Status st = applied.status();
      if (st.code() == Status::Code::kRejected) {
        st = Status::rejected("op " + std::to_string(ops.size() + 1) + " of the batch: " + st.message());
      }
      return discard(st);
    }
    ops.push_back(std::move(op));
  }
  const Op& last = ops.back();
  Status s = d.setMeta("issued_seq", std::to_string(last.id.seq));
  if (s.isOk()) s = d.saveDerived(patient, *doc);
  if (s.isOk()) s = d.setMeta("hlc_wall", std::to_string(last.hlc.wallMs));
  if (s.isOk()) s = d.setMeta("hlc_logical", std::to_string(last.hlc.logical));
  if (!s.isOk()) return discard(s);
  s = d.db->commit();
  if (!s.isOk()) return discard(s);
  d.lastActivityMs = d.nowMs();
  return ops;
}

std::string Replica::newPatientId() {
  (void)initCrypto();
  return "p-" + toHex(randomBytes(16));
}

Status Replica::recordAudit(std::string_view action, std::string_view patient, std::string_view detailJson) {
  std::lock_guard lock(m_impl->mu);
  if (Status s = m_impl->requireUnlocked(); !s.isOk()) return s;
  return m_impl->audit(action, patient, detailJson);
}

Result<std::string> Replica::stateHash() {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  std::vector<std::string> ids;
  {
    auto st = d.db->prepare("SELECT id FROM patients WHERE id NOT IN (SELECT patient FROM break_glass) ORDER BY id");
    if (!st.isOk()) return st.status();
    while (true) {
      auto row = st.value()->step();
      if (!row.isOk()) return row.status();
      if (!row.value()) break;
      ids.push_back(st.value()->text(0));
    }
  }
  ByteWriter all;
  for (const std::string& id : ids) {
    auto doc = d.loadDocument(id, false);
    if (!doc.isOk()) return doc.status();
    d.checkpointAfterRead(id);
    all.str(id).str(doc.value()->canonicalState());
  }
  return toHex(genericHash(all.bytes(), 32));
}

std::uint64_t Replica::pendingOpCount() const {
  std::lock_guard lock(m_impl->mu);
  auto st = m_impl->db->prepare("SELECT COUNT(*) FROM ops WHERE state IN (0, 3)");
  if (!st.isOk()) return 0;
  auto row = st.value()->step();
  if (!row.isOk() || !row.value()) return 0;
  return static_cast<std::uint64_t>(st.value()->int64(0));
}

Result<std::vector<Op>> Replica::outbox(std::size_t limit) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  auto st = d.db->prepare(
      "SELECT replica, seq, patient, sealed FROM ops WHERE state IN (0, 3) ORDER BY state, replica, seq LIMIT ?1");
  if (!st.isOk()) return st.status();
  st.value()->bind(1, static_cast<std::int64_t>(limit));
  std::vector<std::tuple<OpId, std::string, std::string>> rows;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) break;
    rows.emplace_back(OpId{crdt::ReplicaId{static_cast<std::uint64_t>(st.value()->int64(0))},
                           static_cast<std::uint64_t>(st.value()->int64(1))},
                      st.value()->text(2), st.value()->text(3));
  }
  std::vector<Op> out;
  out.reserve(rows.size());
  for (const auto& [id, patient, sealed] : rows) {
    auto key = d.patientKey(patient, false);
    if (!key.isOk()) return key.status();
    auto opened = d.openRow(*key.value(), sealed, adOp(patient, id));
    if (!opened.isOk()) {
      d.tamperDetected("ops", patient, crdt::toString(id));
      return Status::corruption("outbox op " + crdt::toString(id) + " does not open: the stored row was changed");
    }
    auto op = crdt::decodeOp(opened.value());
    if (!op.isOk()) {
      d.tamperDetected("ops", patient, crdt::toString(id));
      return Status::corruption("outbox op " + crdt::toString(id) + " is damaged");
    }
    out.push_back(std::move(op).value());
  }
  return out;
}

Status Replica::acknowledge(const std::vector<Ack>& acks) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  if (Status s = d.beginTx(false); !s.isOk()) return s;
  auto fail = [&](Status st) {
    d.db->rollback();
    return st;
  };
  for (const Ack& ack : acks) {
    const auto replica = static_cast<std::int64_t>(ack.op.replica.value);
    const auto seq = static_cast<std::int64_t>(ack.op.seq);
    if (ack.serverSeq > 0) {
      auto up = d.db->prepare("UPDATE ops SET state = 1, server_seq = ?3 WHERE replica = ?1 AND seq = ?2");
      if (!up.isOk()) return fail(up.status());
      Status s = up.value()->bind(1, replica).bind(2, seq).bind(3, static_cast<std::int64_t>(ack.serverSeq)).run();
      if (!s.isOk()) return fail(s);
      continue;
    }
    auto find = d.db->prepare("SELECT patient FROM ops WHERE replica = ?1 AND seq = ?2");
    if (!find.isOk()) return fail(find.status());
    find.value()->bind(1, replica).bind(2, seq);
    auto row = find.value()->step();
    if (!row.isOk()) return fail(row.status());
    if (!row.value()) continue;
    const std::string patient = find.value()->text(0);
    auto key = d.patientKey(patient, false);
    if (!key.isOk()) return fail(key.status());
    auto up = d.db->prepare("UPDATE ops SET state = 2, note = ?3 WHERE replica = ?1 AND seq = ?2");
    if (!up.isOk()) return fail(up.status());
    Status s = up.value()
                   ->bind(1, replica)
                   .bind(2, seq)
                   .bindBlob(3, seal(*key.value(), ack.rejectedReason, adOpNote(patient, ack.op)))
                   .run();
    if (!s.isOk()) return fail(s);
  }
  return d.db->commit();
}

Result<ApplyStats> Replica::applyPulled(const PullPage& page, std::string_view patientCatchUp) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  ApplyStats stats;
  std::set<std::string> touched;  // charts that changed: their summaries are rewritten
  std::set<std::string> seen;     // every patient of the page
  if (Status s = d.beginTx(false); !s.isOk()) return s;  // the server can give a lost page again
  auto fail = [&](Status st) -> Result<ApplyStats> {
    d.db->rollback();
    for (const std::string& p : seen) {
      d.docs.erase(p);  // cached charts hold ops the rollback removed: reload
      d.patientKeys.erase(p);  // and a key made in this transaction is gone
    }
    return st;
  };
  const std::uint64_t now = d.clock->nowMs();
  for (std::size_t i = 0; i < page.ops.size(); ++i) {
    ++stats.received;
    auto op = crdt::decodeOp(page.ops[i]);
    if (!op.isOk()) {
      return fail(Status::corruption("op " + std::to_string(i) + " of the page does not decode: " +
                                     op.status().message()));
    }
    const Op& o = op.value();
    if (!patientCatchUp.empty() && o.patient != patientCatchUp) {
      return fail(Status::corruption("a page for patient " + std::string(patientCatchUp) +
                                     " carried an op of another patient"));
    }
    // Insert first: a duplicate (our own op coming back, a page pulled again)
    // costs one statement and never loads its chart.
    const bool cached = d.docs.count(o.patient) > 0;
    seen.insert(o.patient);
    bool inserted = false;
    Status s = d.insertOp(o, page.ops[i], kStateSettled, &inserted);
    if (!s.isOk()) return fail(s);
    if (!inserted) {
      ++stats.duplicates;
      // If it was still in our outbox, the server has it: it leaves the outbox.
      auto up = d.db->prepare("UPDATE ops SET state = 1 WHERE replica = ?1 AND seq = ?2 AND state IN (0, 3)");
      if (!up.isOk()) return fail(up.status());
      s = up.value()
              ->bind(1, static_cast<std::int64_t>(o.id.replica.value))
              .bind(2, static_cast<std::int64_t>(o.id.seq))
              .run();
      if (!s.isOk()) return fail(s);
      continue;
    }
    touched.insert(o.patient);
    ++stats.stored;
    // A chart not in memory is loaded from disk, the new op included.
    auto doc = d.loadDocument(o.patient, true);
    if (!doc.isOk()) return fail(doc.status());
    if (cached) {
      auto applied = doc.value()->apply(o);
      if (!applied.isOk()) {
        if (applied.status().code() != Status::Code::kRejected) return fail(applied.status());
        ++stats.rejected;
      } else if (applied.value() == crdt::ApplyOutcome::kHeld) {
        ++stats.held;
      }
    } else if (doc.value()->rejected().count(o.id) > 0) {
      ++stats.rejected;
    } else if (!doc.value()->hasApplied(o.id)) {
      ++stats.held;
    }
    if (!d.factory->observe(o.hlc).isOk() || o.hlc.wallMs > now + crdt::HybridClock::kDefaultMaxDriftMs) {
      ++stats.futureClock;
    }
  }
  for (const std::string& p : touched) {
    Status s = d.saveDerived(p, *d.docs.at(p));
    if (!s.isOk()) return fail(s);
  }
  std::vector<std::string> purged;
  if (patientCatchUp.empty()) {
    for (const std::string& p : page.purge) {
      auto del = d.db->prepare("DELETE FROM patients WHERE id = ?1");  // ops follow (ON DELETE CASCADE)
      Status s = del.isOk() ? del.value()->bind(1, p).run() : del.status();
      if (s.isOk() && d.db->changes() > 0) {
        s = d.appendAudit("replica.patient_purged", p, "{\"why\":\"left the clinic\"}", d.user);
        purged.push_back(p);
      }
      if (s.isOk()) {
        auto pe = d.db->prepare("DELETE FROM pending_entries WHERE patient = ?1");
        s = pe.isOk() ? pe.value()->bind(1, p).run() : pe.status();
      }
      if (s.isOk()) s = d.ledgerSet(ledgerBreakGlass(p), std::nullopt);
      if (!s.isOk()) return fail(s);
    }
    for (const std::string& p : page.enter) {
      auto ins = d.db->prepare("INSERT INTO pending_entries (patient) VALUES (?1) ON CONFLICT DO NOTHING");
      Status s = ins.isOk() ? ins.value()->bind(1, p).run() : ins.status();
      // A break-glass copy of a patient who joins the clinic becomes its
      // chart here: editable, kept, caught up like any newcomer.
      if (s.isOk()) {
        auto bg = d.db->prepare("DELETE FROM break_glass WHERE patient = ?1");
        s = bg.isOk() ? bg.value()->bind(1, p).run() : bg.status();
        if (s.isOk()) s = d.ledgerSet(ledgerBreakGlass(p), std::nullopt);
      }
      if (!s.isOk()) return fail(s);
    }
  }
  Status s;
  if (patientCatchUp.empty()) {
    s = d.setMeta("cursor", std::to_string(page.next));
  } else {
    auto up = d.db->prepare("UPDATE pending_entries SET cursor = ?2 WHERE patient = ?1");
    s = up.isOk() ? up.value()->bind(1, patientCatchUp).bind(2, static_cast<std::int64_t>(page.next)).run()
                  : up.status();
  }
  if (!s.isOk()) return fail(s);
  s = d.db->commit();
  if (!s.isOk()) return fail(s);
  if (patientCatchUp.empty()) d.cursor = page.next;
  for (const std::string& p : purged) {
    if (auto it = d.patientKeys.find(p); it != d.patientKeys.end()) {
      it->second.wipe();
      d.patientKeys.erase(it);
    }
    d.docs.erase(p);
  }
  if (!purged.empty()) {
    // Their attachment files (unreadable already: the keys are gone).
    if (Status c = d.attachments->sweep(); !c.isOk()) return c;
    // Old page images of the key rows may linger in the WAL: fold it into
    // the database (where secure_delete zeroed the freed pages).
    if (Status c = d.db->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !c.isOk()) return c;
  }
  return stats;
}

std::uint64_t Replica::cursor() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->cursor;
}

std::vector<std::pair<std::string, std::uint64_t>> Replica::pendingEntries() const {
  std::lock_guard lock(m_impl->mu);
  std::vector<std::pair<std::string, std::uint64_t>> out;
  auto st = m_impl->db->prepare("SELECT patient, cursor FROM pending_entries ORDER BY patient");
  if (!st.isOk()) return out;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk() || !row.value()) break;
    out.emplace_back(st.value()->text(0), static_cast<std::uint64_t>(st.value()->int64(1)));
  }
  return out;
}

Status Replica::finishPendingEntry(std::string_view patient) {
  std::lock_guard lock(m_impl->mu);
  auto st = m_impl->db->prepare("DELETE FROM pending_entries WHERE patient = ?1");
  if (!st.isOk()) return st.status();
  return st.value()->bind(1, patient).run();
}

Status Replica::storeBreakGlass(const BreakGlassCopy& copy) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.trimCharts();
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string& patient = copy.patient;
  if (patient.empty() || patient.size() > crdt::kMaxIdBytes) return Status::invalidArgument("bad patient id");
  if (copy.expiresAtMs <= d.nowMs()) return Status::invalidArgument("the break-glass copy has already expired");
  {
    auto st = d.db->prepare("SELECT EXISTS (SELECT 1 FROM patients WHERE id = ?1), "
                            "EXISTS (SELECT 1 FROM break_glass WHERE patient = ?1)");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, patient);
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (st.value()->int64(0) != 0 && st.value()->int64(1) == 0) {
      return Status::alreadyExists("patient " + patient + " is in this tablet's scope already");
    }
  }
  if (copy.ops.empty()) return Status::invalidArgument("the break-glass answer holds no chart");
  std::vector<Op> ops;
  ops.reserve(copy.ops.size());
  for (std::size_t i = 0; i < copy.ops.size(); ++i) {
    auto op = crdt::decodeOp(copy.ops[i]);
    if (!op.isOk()) return Status::corruption("op " + std::to_string(i) + " does not decode: " + op.status().message());
    if (op.value().patient != patient) {
      return Status::corruption("the break-glass answer for " + patient + " carried an op of another patient");
    }
    ops.push_back(std::move(op).value());
  }
  auto fail = [&](Status st) {
    d.db->rollback();
    d.docs.erase(patient);
    d.patientKeys.erase(patient);
    return st;
  };
  if (Status s = d.beginTx(); !s.isOk()) return s;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    bool inserted = false;  // break-glass again on the same chart: what is here stays
    Status s = d.insertOp(ops[i], copy.ops[i], kStateSettled, &inserted);
    if (!s.isOk()) return fail(s);
  }
  d.docs.erase(patient);  // built anew from the rows just stored
  auto doc = d.loadDocument(patient, true);
  if (!doc.isOk()) return fail(doc.status());
  Status s = d.saveDerived(patient, *doc.value());
  auto key = d.patientKey(patient, false);
  if (s.isOk() && !key.isOk()) s = key.status();
  if (s.isOk()) {
    ByteWriter w;
    w.str(copy.clinic).str(copy.reason).str(d.user).i64(d.nowMs()).i64(copy.expiresAtMs);
    const std::string sealed = d.sealRow(*key.value(), w.bytes(), adBreakGlass(patient));
    auto ins = d.db->prepare(
        "INSERT INTO break_glass (patient, expires_at, sealed) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (patient) DO UPDATE SET expires_at = excluded.expires_at, sealed = excluded.sealed");
    s = ins.isOk() ? ins.value()->bind(1, patient).bind(2, copy.expiresAtMs).bindBlob(3, sealed).run() : ins.status();
    if (s.isOk()) s = d.ledgerSet(ledgerBreakGlass(patient), breakGlassRow(copy.expiresAtMs, sealed));
  }
  if (s.isOk()) {
    s = d.appendAudit("chart.break_glass", patient,
                      "{\"reason\":" + jsonQuote(copy.reason) + ",\"clinic\":" + jsonQuote(copy.clinic) +
                          ",\"expires_at\":" + std::to_string(copy.expiresAtMs) + "}",
                      d.user);
  }
  if (!s.isOk()) return fail(s);
  s = d.db->commit();
  if (!s.isOk()) return fail(s);
  return Status::ok();
}

std::vector<BreakGlassInfo> Replica::breakGlassCopies() const {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  std::vector<BreakGlassInfo> out;
  if (!d.requireUnlocked().isOk()) return out;
  std::vector<std::tuple<std::string, std::int64_t, std::string>> rows;
  {
    auto st = d.db->prepare("SELECT patient, expires_at, sealed FROM break_glass ORDER BY patient");
    if (!st.isOk()) return out;
    while (true) {
      auto row = st.value()->step();
      if (!row.isOk() || !row.value()) break;
      rows.emplace_back(st.value()->text(0), st.value()->int64(1), st.value()->text(2));
    }
  }
  const auto ledger = d.loadLedger();
  for (const auto& [patient, expiresAt, sealed] : rows) {
    auto key = d.patientKey(patient, false);
    if (!key.isOk()) continue;
    auto opened = Impl::ledgerMatches(ledger, ledgerBreakGlass(patient), breakGlassRow(expiresAt, sealed))
                      ? d.openRow(*key.value(), sealed, adBreakGlass(patient))
                      : Result<std::string>(Status::corruption("not the row this tablet last wrote"));
    if (!opened.isOk()) {
      d.tamperDetected("break_glass", patient, patient);
      continue;
    }
    BreakGlassInfo info;
    info.patient = patient;
    ByteReader r(opened.value());
    if (r.str(info.clinic) && r.str(info.reason) && r.str(info.user) && r.i64(info.openedAtMs) &&
        r.i64(info.expiresAtMs)) {
      out.push_back(std::move(info));
    }
  }
  return out;
}

bool Replica::isBreakGlass(std::string_view patient) const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->isBreakGlass(std::string(patient));
}

Result<std::size_t> Replica::purgeExpiredBreakGlass() {
  std::vector<std::string> expired;
  {
    std::lock_guard lock(m_impl->mu);
    Impl& d = *m_impl;
    auto st =
        d.db->prepare("SELECT patient, expires_at, sealed FROM break_glass WHERE expires_at <= ?1 ORDER BY patient");
    if (!st.isOk()) return st.status();
    st.value()->bind(1, d.nowMs());
    std::vector<std::tuple<std::string, std::int64_t, std::string>> rows;
    while (true) {
      auto row = st.value()->step();
      if (!row.isOk()) return row.status();
      if (!row.value()) break;
      rows.emplace_back(st.value()->text(0), st.value()->int64(1), st.value()->text(2));
    }
    // A row the ledger does not know (one put back after its patient joined
    // the clinic, say) purges nothing. Checked once unlocked.
    if (d.dataKey.empty()) return std::size_t{0};
    const auto ledger = d.loadLedger();
    for (const auto& [patient, expiresAt, sealed] : rows) {
      if (Impl::ledgerMatches(ledger, ledgerBreakGlass(patient), breakGlassRow(expiresAt, sealed))) {
        expired.push_back(patient);
      } else if (d.unknownBreakGlass.insert(patient).second) {
        (void)d.audit("replica.tamper_detected", patient,
                      "{\"table\":\"break_glass\",\"row\":" + jsonQuote(patient) + "}");
      }
    }
  }
  for (const std::string& p : expired) {
    if (Status s = purgePatientBecause(p, "replica.break_glass_expired"); !s.isOk()) return s;
  }
  return expired.size();
}

Status Replica::purgePatient(std::string_view patientView) {
  return purgePatientBecause(patientView, "replica.patient_purged");
}

Status Replica::purgePatientBecause(std::string_view patientView, std::string_view action) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  const std::string patient(patientView);
  if (Status s = d.beginTx(); !s.isOk()) return s;
  auto del = d.db->prepare("DELETE FROM patients WHERE id = ?1");  // ops follow (ON DELETE CASCADE)
  Status s = del.isOk() ? del.value()->bind(1, patient).run() : del.status();
  if (s.isOk()) {
    auto pe = d.db->prepare("DELETE FROM pending_entries WHERE patient = ?1");
    s = pe.isOk() ? pe.value()->bind(1, patient).run() : pe.status();
  }
  if (s.isOk()) s = d.ledgerSet(ledgerBreakGlass(patient), std::nullopt);  // its row went with it
  if (s.isOk()) s = d.appendAudit(action, patient, "{}", d.user);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  s = d.db->commit();
  if (!s.isOk()) return s;
  if (auto it = d.patientKeys.find(patient); it != d.patientKeys.end()) {
    it->second.wipe();
    d.patientKeys.erase(it);
  }
  d.docs.erase(patient);
  // Its attachment files (unreadable already: the key is gone).
  if (Status c = d.attachments->sweep(); !c.isOk()) return c;
  // Old page images of the key row may linger in the WAL: fold it into the
  // database (where secure_delete zeroed the freed pages) and truncate it.
  return d.db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Status Replica::eraseEverything() {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  d.wipeKeys();
  if (Status s = d.beginTx(); !s.isOk()) return s;
  Status s = d.db->exec(
      "DELETE FROM ops; DELETE FROM patients; DELETE FROM secrets; DELETE FROM users; DELETE FROM audit; "
      "DELETE FROM pending_entries; DELETE FROM checkpoints;");
  if (s.isOk()) s = d.setMeta("wiped", "1");
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  s = d.db->commit();
  if (!s.isOk()) return s;
  if (Status a = d.attachments->eraseAll(); !a.isOk()) return a;
  return d.db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Status Replica::startNewEpoch(std::string_view epoch) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.beginTx(); !s.isOk()) return s;
  // Break-glass copies belong to another clinic: the server would refuse them.
  Status s = d.db->exec("UPDATE ops SET state = 3 WHERE state = 1 AND patient NOT IN (SELECT patient FROM break_glass)");
  // Attachments too: the restored server may lack blobs it acknowledged. Its
  // answer to each declaration lists only the chunks it lacks.
  if (s.isOk()) {
    s = d.db->exec(
        "UPDATE attachments SET upload = 1 WHERE state = 1 AND upload = 0 "
        "AND patient NOT IN (SELECT patient FROM break_glass)");
  }
  if (s.isOk()) s = d.setMeta("epoch", epoch);
  if (s.isOk()) s = d.setMeta("cursor", "0");
  if (s.isOk()) s = d.db->exec("UPDATE pending_entries SET cursor = 0");
  if (s.isOk()) s = d.appendAudit("replica.new_epoch", "", "{\"epoch\":" + jsonQuote(epoch) + "}", d.user);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  s = d.db->commit();
  if (!s.isOk()) return s;
  d.identity.epoch = std::string(epoch);
  d.cursor = 0;
  return Status::ok();
}

Result<std::vector<DeviceAuditEvent>> Replica::pendingAudit(std::size_t limit) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const auto acked = static_cast<std::int64_t>(d.metaU64("audit_acked"));
  auto st = d.db->prepare("SELECT seq, sealed, payload FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  if (!st.isOk()) return st.status();
  st.value()->bind(1, acked).bind(2, static_cast<std::int64_t>(limit));
  std::vector<DeviceAuditEvent> out;
  while (true) {
    auto row = st.value()->step();
    if (!row.isOk()) return row.status();
    if (!row.value()) break;
    const std::int64_t seq = st.value()->int64(0);
    std::string payload = st.value()->text(2);
    if (st.value()->int64(1) != 0) {
      auto opened = sync::open(d.dataKey, payload, adAudit(seq));
      if (!opened.isOk()) {
        d.tamperDetected("audit", "", std::to_string(seq));
        return Status::corruption("audit event " + std::to_string(seq) + " does not open: the stored row was changed");
      }
      payload = std::move(opened).value();
    }
    DeviceAuditEvent e;
    e.seq = static_cast<std::uint64_t>(seq);
    ByteReader r(payload);
    if (!r.i64(e.atMs) || !r.str(e.user) || !r.str(e.action) || !r.str(e.patient) || !r.str(e.detail) || !r.atEnd()) {
      d.tamperDetected("audit", "", std::to_string(seq));
      return Status::corruption("audit event " + std::to_string(seq) + " is damaged");
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::uint64_t Replica::pendingAuditCount() const {
  std::lock_guard lock(m_impl->mu);
  auto st = m_impl->db->prepare("SELECT COUNT(*) FROM audit WHERE seq > ?1");
  if (!st.isOk()) return 0;
  st.value()->bind(1, static_cast<std::int64_t>(m_impl->metaU64("audit_acked")));
  auto row = st.value()->step();
  if (!row.isOk() || !row.value()) return 0;
  return static_cast<std::uint64_t>(st.value()->int64(0));
}

Status Replica::acknowledgeAudit(std::uint64_t ackedSeq) {
  std::lock_guard lock(m_impl->mu);
  if (ackedSeq <= m_impl->metaU64("audit_acked")) return Status::ok();
  return m_impl->setMeta("audit_acked", std::to_string(ackedSeq));
}

Replica::SyncRecord Replica::syncRecord() const {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  SyncRecord r;
  r.lastSuccessMs = static_cast<std::int64_t>(d.metaU64("last_success_ms"));
  r.lastErrorMs = static_cast<std::int64_t>(d.metaU64("last_error_ms"));
  auto err = d.meta("last_error");
  if (err.isOk() && err.value()) r.lastError = *err.value();
  return r;
}

Status Replica::recordSyncOutcome(const SyncRecord& record) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.beginTx(false); !s.isOk()) return s;
  Status s = d.setMeta("last_success_ms", std::to_string(record.lastSuccessMs));
  if (s.isOk()) s = d.setMeta("last_error_ms", std::to_string(record.lastErrorMs));
  if (s.isOk()) s = d.setMeta("last_error", record.lastError);
  if (!s.isOk()) {
    d.db->rollback();
    return s;
  }
  return d.db->commit();
}

}  // namespace charta::sync

// --- attachments -------------------------------------------------------------

namespace charta::sync {

namespace {

std::string hashDetail(std::string_view hash, std::string_view purpose) {
  return "{\"hash\":" + jsonQuote(hash) + ",\"purpose\":" + jsonQuote(purpose) + "}";
}

}  // namespace

Result<AttachmentInfo> Replica::storeAttachment(std::string_view patientView, std::string_view bytes,
                                                const AttachmentMeta& meta) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  if (Status s = d.refuseBreakGlassEdit(patient); !s.isOk()) return s;
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  auto stored = d.attachments->store(patient, *key.value(), bytes, meta);
  if (stored.isOk()) d.lastActivityMs = d.nowMs();
  return stored;
}

Result<std::unique_ptr<AttachmentReader>> Replica::openAttachment(std::string_view patientView, std::string_view hash,
                                                                  std::string_view purpose) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  auto reader = d.attachments->open(patient, *key.value(), std::string(hash));
  if (!reader.isOk()) {
    if (reader.status().code() == Status::Code::kCorruption) d.tamperDetected("attachments", patient, hash);
    return reader.status();
  }
  if (!purpose.empty()) {
    if (Status s = d.audit("attachment.read", patient, hashDetail(hash, purpose)); !s.isOk()) return s;
    d.lastActivityMs = d.nowMs();
  }
  return reader;
}

Result<std::string> Replica::readAttachment(std::string_view patient, std::string_view hash, std::string_view purpose) {
  auto reader = openAttachment(patient, hash, purpose);
  if (!reader.isOk()) return reader.status();
  std::string out;
  out.reserve(static_cast<std::size_t>(reader.value()->size()));
  for (;;) {
    auto chunk = reader.value()->next();
    if (!chunk.isOk()) {
      wipeString(out);
      std::lock_guard lock(m_impl->mu);
      m_impl->tamperDetected("attachments", patient, hash);
      return chunk.status();
    }
    if (!chunk.value()) break;
    out += *chunk.value();
    wipeString(*chunk.value());
  }
  return out;
}

Result<std::optional<AttachmentInfo>> Replica::attachmentState(std::string_view patientView, std::string_view hash) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  auto info = d.attachments->info(patient, *key.value(), std::string(hash));
  if (!info.isOk() && info.status().code() == Status::Code::kCorruption) d.tamperDetected("attachments", patient, hash);
  return info;
}

Result<std::vector<AttachmentInfo>> Replica::attachments(std::string_view patientView) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  auto patients = d.attachments->patients(std::string(patientView));
  if (!patients.isOk()) return patients.status();
  std::vector<AttachmentInfo> out;
  for (const std::string& p : patients.value()) {
    auto key = d.patientKey(p, false);
    if (!key.isOk()) return key.status();
    auto list = d.attachments->list(p, *key.value());
    if (!list.isOk()) {
      if (list.status().code() == Status::Code::kCorruption) d.tamperDetected("attachments", p, "");
      return list.status();
    }
    for (AttachmentInfo& info : list.value()) out.push_back(std::move(info));
  }
  if (out.empty() && !patientView.empty()) {
    auto key = d.patientKey(std::string(patientView), false);
    if (!key.isOk()) return key.status();
  }
  return out;
}

AttachmentCounts Replica::attachmentCounts() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->attachments->counts();
}

std::uint64_t Replica::attachmentBudget() const {
  std::lock_guard lock(m_impl->mu);
  auto v = m_impl->meta("attachment_budget");
  if (!v.isOk() || !v.value()) return kDefaultAttachmentBudgetBytes;
  return std::strtoull(v.value()->c_str(), nullptr, 10);
}

Status Replica::setAttachmentBudget(std::uint64_t bytes) {
  std::lock_guard lock(m_impl->mu);
  if (Status s = m_impl->db->setDurable(true); !s.isOk()) return s;
  return m_impl->setMeta("attachment_budget", std::to_string(bytes));
}

Result<std::size_t> Replica::evictAttachments() {
  const std::uint64_t budget = attachmentBudget();
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  return d.attachments->evict(budget, [&d](const std::string& patient) -> const SecretKey* {
    auto key = d.patientKey(patient, false);
    return key.isOk() ? key.value() : nullptr;
  });
}

Result<std::uint64_t> Replica::beginAttachmentDownload(std::string_view patientView, std::string_view hash,
                                                       std::uint64_t size, const AttachmentMeta& meta) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  return d.attachments->beginDownload(patient, *key.value(), std::string(hash), size, meta);
}

Result<bool> Replica::putAttachmentChunk(std::string_view patientView, std::string_view hash, std::uint64_t index,
                                         std::string_view bytes, std::string_view expectedChunkHash) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  return d.attachments->putChunk(patient, *key.value(), std::string(hash), index, bytes, expectedChunkHash);
}

Result<std::vector<AttachmentInfo>> Replica::attachmentsToUpload() {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  auto patients = d.attachments->patientsWithUploads();
  if (!patients.isOk()) return patients.status();
  std::vector<AttachmentInfo> out;
  for (const std::string& p : patients.value()) {
    auto key = d.patientKey(p, false);
    if (!key.isOk()) continue;  // purged meanwhile: swept
    auto list = d.attachments->list(p, *key.value());
    if (!list.isOk()) return list.status();
    for (AttachmentInfo& info : list.value()) {
      if (info.upload == AttachmentInfo::Upload::kPending && info.complete) out.push_back(std::move(info));
    }
  }
  return out;
}

Status Replica::markAttachmentUploaded(std::string_view patientView, std::string_view hash) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  return d.attachments->setUpload(patient, *key.value(), std::string(hash), AttachmentInfo::Upload::kNone, {});
}

Status Replica::markAttachmentRefused(std::string_view patientView, std::string_view hash, std::string_view reason) {
  std::lock_guard lock(m_impl->mu);
  Impl& d = *m_impl;
  if (Status s = d.requireUnlocked(); !s.isOk()) return s;
  const std::string patient(patientView);
  auto key = d.patientKey(patient, false);
  if (!key.isOk()) return key.status();
  return d.attachments->setUpload(patient, *key.value(), std::string(hash), AttachmentInfo::Upload::kRefused, reason);
}

}  // namespace charta::sync
