#include "sync.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "charta/crdt/hlc.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"

namespace charta::server {
namespace {

using P = std::vector<DbValue>;
using crdt::Op;
using crdt::OpId;

std::string detailOf(json::Value v) { return json::serialize(v); }

}  // namespace

std::int64_t conflictRank(const crdt::Conflict& k) {
  if (!k.clinical) return 0;
  const bool significant = !k.isNote && (k.field.collection == crdt::Collection::kAllergies ||
                                         k.field.collection == crdt::Collection::kMedications);
  return significant ? 2 : 1;
}

namespace {

// Replaces the indexed open conflicts of one patient with the chart's current
// ones, keeping the time each was first seen.
Status reindexConflicts(WriteTx& tx, const crdt::ChartDocument& doc, const std::string& clinic) {
  Connection& c = tx.conn();
  auto existing = c.query("SELECT id, opened_at FROM conflicts WHERE patient_id = $1", P{doc.patientId()});
  if (!existing.isOk()) return existing.status();
  std::map<std::string, std::int64_t> opened;
  for (const DbRow& r : existing.value()) opened[dbText(r[0])] = dbInt(r[1]);
  std::vector<crdt::Conflict> now = doc.conflicts();
  if (opened.empty() && now.empty()) return Status::ok();
  Status s = c.exec("DELETE FROM conflicts WHERE patient_id = $1", P{doc.patientId()});
  if (!s.isOk()) return s;
  std::vector<std::vector<DbValue>> rows;
  for (const crdt::Conflict& k : now) {
    std::string id = doc.patientId() + "|" + k.path;
    auto it = opened.find(id);
    rows.push_back({id, doc.patientId(), clinic, k.path, conflictRank(k), it == opened.end() ? tx.now() : it->second,
                    json::serialize(conflictToJson(k))});
  }
  if (rows.empty()) return Status::ok();
  return c.queryMany(
              "INSERT INTO conflicts (id, patient_id, clinic_id, path, clinical, opened_at, detail) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7)",
              rows)
      .status();
}

// Rewrites the break-glass keys of one patient to match its chart (only the
// rows that changed: most pushes change no identifier and no birth date).
Status reindexPatientKeys(WriteTx& tx, const crdt::ChartDocument& doc) {
  Connection& c = tx.conn();
  std::set<std::string> want = patientKeysOf(doc);
  auto rows = c.query("SELECT key FROM patient_keys WHERE patient_id = $1", P{doc.patientId()});
  if (!rows.isOk()) return rows.status();
  std::set<std::string> have;
  for (const DbRow& r : rows.value()) have.insert(dbText(r[0]));
  if (have == want) return Status::ok();
  std::vector<std::vector<DbValue>> gone, added;
  for (const std::string& k : have) {
    if (!want.count(k)) gone.push_back({doc.patientId(), k});
  }
  for (const std::string& k : want) {
    if (!have.count(k)) added.push_back({doc.patientId(), k});
  }
  if (!gone.empty()) {
    auto r = c.queryMany("DELETE FROM patient_keys WHERE patient_id = $1 AND key = $2", gone);
    if (!r.isOk()) return r.status();
  }
  if (!added.empty()) {
    auto r = c.queryMany("INSERT INTO patient_keys (patient_id, key) VALUES ($1, $2)", added);
    if (!r.isOk()) return r.status();
  }
  return Status::ok();
}

bool isAsciiSpace(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'; }

struct PatientInfo {
  bool exists = false;
  std::string clinic;
};

Result<PatientInfo> patientInfo(Connection& c, const std::string& patient) {
  auto rows = c.query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return PatientInfo{};
  return PatientInfo{true, dbText(rows.value()[0][0])};
}

// Stores already-validated ops with fresh sequences and updates patients,
// the cache cursor and the conflict index.
// `docs`: charts this transaction already brought up to date (loaded once).
Status storeOps(WriteTx& tx, ChartCache& cache, std::map<std::string, crdt::ChartDocument*>& docs,
                const std::vector<const Op*>& ops, const std::string& deviceId, const std::string& clinic,
                const std::vector<bool>& future, std::vector<std::int64_t>& seqsOut) {
  if (ops.empty()) return Status::ok();
  std::vector<std::vector<DbValue>> rows;
  rows.reserve(ops.size());
  std::map<std::string, std::int64_t> lastSeq;
  std::map<std::string, std::int64_t> firstSeq;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = *ops[i];
    std::int64_t seq = ++tx.head().opSeq;
    seqsOut.push_back(seq);
    lastSeq[op.patient] = seq;
    firstSeq.emplace(op.patient, seq);
    rows.push_back({seq, static_cast<std::int64_t>(op.id.replica.value), static_cast<std::int64_t>(op.id.seq),
                    op.patient, clinic, deviceId, tx.now(), static_cast<std::int64_t>(op.hlc.wallMs),
                    std::int64_t{future[i] ? 1 : 0}, Blob{crdt::encodeOp(op)}});
  }
  auto r = tx.conn().queryMany(
      "INSERT INTO ops (seq, replica, counter, patient_id, clinic_id, device_id, received_at, hlc_wall, future_clock, "
      "body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      rows);
  if (!r.isOk()) return r.status();
  for (const auto& [patient, seq] : lastSeq) {
    Status s = tx.conn().exec(
        "INSERT INTO patients (id, clinic_id, created_seq, updated_seq) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET updated_seq = excluded.updated_seq",
        P{patient, clinic, firstSeq[patient], seq});
    if (!s.isOk()) return s;
    cache.advance(patient, seq);
    auto known = docs.find(patient);
    crdt::ChartDocument* doc = known == docs.end() ? nullptr : known->second;
    if (!doc) {
      auto loaded = cache.load(tx.conn(), patient);
      if (!loaded.isOk()) return loaded.status();
      doc = loaded.value();
    }
    s = reindexConflicts(tx, *doc, clinic);
    if (s.isOk()) s = reindexPatientKeys(tx, *doc);
    if (!s.isOk()) return s;
  }
  return Status::ok();
}

}  // namespace

Result<crdt::ChartDocument*> ChartCache::load(Connection& c, const std::string& patient) {
  std::lock_guard lock(m_mu);
  Entry& e = m_charts[patient];
  if (!e.doc) e.doc = std::make_unique<crdt::ChartDocument>(patient);
  auto rows = c.query("SELECT seq, body FROM ops WHERE patient_id = $1 AND seq > $2 ORDER BY seq",
                      P{patient, e.seq});
  if (!rows.isOk()) {
    m_charts.erase(patient);
    return rows.status();
  }
  for (const DbRow& r : rows.value()) {
    auto op = crdt::decodeOp(dbBytes(r[1]));
    if (!op.isOk()) {
      m_charts.erase(patient);
      return Status::corruption("stored op " + std::to_string(dbInt(r[0])) + " does not decode: " +
                                op.status().message());
    }
    (void)e.doc->apply(op.value());  // a stored op the chart rejects stays rejected: deterministic
    e.seq = dbInt(r[0]);
  }
  return e.doc.get();
}

void ChartCache::advance(const std::string& patient, std::int64_t seq) {
  std::lock_guard lock(m_mu);
  auto it = m_charts.find(patient);
  if (it != m_charts.end()) it->second.seq = std::max(it->second.seq, seq);
}

void ChartCache::invalidate(const std::set<std::string>& patients) {
  std::lock_guard lock(m_mu);
  for (const std::string& p : patients) m_charts.erase(p);
}

Status storeServerOps(WriteTx& tx, ChartCache& cache, std::map<std::string, crdt::ChartDocument*>& docs,
                      const std::vector<const Op*>& ops, const std::string& clinic, std::vector<std::int64_t>& seqsOut) {
  return storeOps(tx, cache, docs, ops, "server", clinic, std::vector<bool>(ops.size(), false), seqsOut);
}

Result<PushResult> pushOps(WriteTx& tx, ChartCache& cache, const Device& device, std::uint64_t serverReplica,
                           const std::vector<Op>& ops, std::int64_t futureBoundMs) {
  PushResult out;
  out.seqs.assign(ops.size(), 0);
  Connection& c = tx.conn();

  // Already stored or already rejected (a retry): answer as before.
  std::vector<std::vector<DbValue>> idRows;
  idRows.reserve(ops.size());
  for (const Op& op : ops) {
    idRows.push_back({static_cast<std::int64_t>(op.id.replica.value), static_cast<std::int64_t>(op.id.seq)});
  }
  auto stored = c.queryMany("SELECT seq, body FROM ops WHERE replica = $1 AND counter = $2", idRows);
  if (!stored.isOk()) return stored.status();
  auto rejectedBefore = c.queryMany("SELECT reason FROM rejected_ops WHERE replica = $1 AND counter = $2", idRows);
  if (!rejectedBefore.isOk()) return rejectedBefore.status();

  // Replicas other than the device's own that it may relay.
  std::set<std::uint64_t> relayable{serverReplica};
  bool foreign = false;
  for (const Op& op : ops) foreign = foreign || op.id.replica.value != device.replica;
  if (foreign) {
    auto revoked = c.query("SELECT replica_id FROM devices WHERE clinic_id = $1 AND revoked_at IS NOT NULL",
                           P{device.clinic});
    if (!revoked.isOk()) return revoked.status();
    for (const DbRow& r : revoked.value()) relayable.insert(static_cast<std::uint64_t>(dbInt(r[0])));
  }

  // Authors a device may name in its own ops: the users of its clinic (also
  // revoked ones: what a nurse charted offline before her account was closed
  // is kept).
  std::set<std::string> authors;
  auto users = c.query("SELECT id FROM users WHERE clinic_id = $1", P{device.clinic});
  if (!users.isOk()) return users.status();
  for (const DbRow& r : users.value()) authors.insert(dbText(r[0]));

  std::map<std::string, PatientInfo> patients;
  std::map<std::string, crdt::ChartDocument*> docs;
  std::unordered_map<OpId, std::size_t> inBatch;
  std::vector<const Op*> toStore;
  std::vector<std::size_t> toStoreIndex;
  std::vector<bool> future;
  std::vector<std::vector<DbValue>> rejectRows;
  const std::int64_t bound = tx.now() + futureBoundMs;

  auto reject = [&](std::size_t i, std::string reason, bool remember) {
    const Op& op = ops[i];
    out.rejected.push_back({i, crdt::toString(op.id), reason});
    tx.audit({"", "", "", "op.reject", device.clinic, op.patient,
              detailOf(json::Object{{"op", crdt::toString(op.id)}, {"reason", reason}})});
    if (remember) {
      rejectRows.push_back({static_cast<std::int64_t>(op.id.replica.value), static_cast<std::int64_t>(op.id.seq),
                            op.patient, device.id, tx.now(), reason});
    }
  };

  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (!stored.value()[i].empty()) {
      if (dbBytes(stored.value()[i][0][1]) != crdt::encodeOp(op)) {
        reject(i, "op id " + crdt::toString(op.id) + " is already taken by a different op", false);
        continue;
      }
      out.seqs[i] = dbInt(stored.value()[i][0][0]);
      ++out.duplicates;
      continue;
    }
    if (op.id.replica.value != device.replica && !relayable.count(op.id.replica.value)) {
      reject(i, "op " + crdt::toString(op.id) + " carries another device's replica id", false);
      continue;
    }
    if (op.id.replica.value == device.replica && !op.author.empty() && !authors.count(op.author)) {
      reject(i, "the author " + op.author + " is not a user of clinic " + device.clinic, false);
      continue;
    }
    if (!rejectedBefore.value()[i].empty()) {
      reject(i, dbText(rejectedBefore.value()[i][0][0]), false);
      continue;
    }
    if (auto it = inBatch.find(op.id); it != inBatch.end()) {
      // The same op twice in one batch: the second is a duplicate of the first.
      ++out.duplicates;
      out.seqs[i] = static_cast<std::int64_t>(~it->second);  // patched below
      continue;
    }
    if (op.patient.empty()) {
      reject(i, "the op names no patient", false);
      continue;
    }
    auto pit = patients.find(op.patient);
    if (pit == patients.end()) {
      auto info = patientInfo(c, op.patient);
      if (!info.isOk()) return info.status();
      pit = patients.emplace(op.patient, info.value()).first;
    }
    if (pit->second.exists && pit->second.clinic != device.clinic) {
      reject(i, "patient " + op.patient + " is not in this device's clinic", false);
      continue;
    }
    tx.touch(op.patient);
    auto known = docs.find(op.patient);
    if (known == docs.end()) {
      auto loaded = cache.load(c, op.patient);
      if (!loaded.isOk()) return loaded.status();
      known = docs.emplace(op.patient, loaded.value()).first;
    }
    auto applied = known->second->apply(op);
    if (!applied.isOk()) {
      reject(i, applied.status().message(), true);
      continue;
    }
    inBatch.emplace(op.id, i);
    toStore.push_back(&op);
    toStoreIndex.push_back(i);
    bool isFuture = static_cast<std::int64_t>(op.hlc.wallMs) > bound;
    future.push_back(isFuture);
    if (isFuture) out.flagged.push_back(i);
  }

  std::vector<std::int64_t> seqs;
  Status s = storeOps(tx, cache, docs, toStore, device.id, device.clinic, future, seqs);
  if (!s.isOk()) return s;
  for (std::size_t k = 0; k < seqs.size(); ++k) {
    out.seqs[toStoreIndex[k]] = seqs[k];
    const Op& op = *toStore[k];
    json::Object d{{"op", crdt::toString(op.id)}, {"seq", seqs[k]}};
    if (future[k]) d.emplace_back("future_clock", true);
    tx.audit({"", "", "", "op.receive", device.clinic, op.patient, detailOf(std::move(d))});
  }
  for (std::int64_t& seq : out.seqs) {
    if (seq < 0) seq = out.seqs[static_cast<std::size_t>(~seq)];
  }
  out.stored = static_cast<std::int64_t>(seqs.size());
  if (!rejectRows.empty()) {
    auto r = c.queryMany(
        "INSERT INTO rejected_ops (replica, counter, patient_id, device_id, received_at, reason) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        rejectRows);
    if (!r.isOk()) return r.status();
  }
  s = c.exec(
      "UPDATE devices SET last_seen_at = $2, last_push_at = $2, ops_pushed = ops_pushed + $3, "
      "future_ops = future_ops + $4 WHERE id = $1",
      P{device.id, tx.now(), out.stored, static_cast<std::int64_t>(out.flagged.size())});
  if (!s.isOk()) return s;
  return out;
}

Result<PullResult> readPull(Connection& c, const Device& device, std::int64_t since, std::int64_t limit,
                            const std::string& patient) {
  PullResult out;
  // Every op up to the head's sequence has committed (the head row is updated
  // in the transaction that stores them, under its lock), so bounding the
  // page by it never skips an op that commits later.
  auto head = c.query("SELECT op_seq FROM head WHERE id = 1");
  if (!head.isOk()) return head.status();
  if (head.value().empty()) return Status::corruption("the store's head row is missing");
  const std::int64_t headSeq = dbInt(head.value()[0][0]);
  out.head = headSeq;
  Result<std::vector<DbRow>> rows = std::vector<DbRow>{};
  if (!patient.empty()) {
    auto info = patientInfo(c, patient);
    if (!info.isOk()) return info.status();
    if (!info.value().exists || info.value().clinic != device.clinic) {
      return Status::notFound("patient " + patient + " is not in this device's clinic");
    }
    rows = c.query(
        "SELECT seq, body, patient_id FROM ops WHERE patient_id = $1 AND seq > $2 AND seq <= $4 ORDER BY seq LIMIT $3",
        P{patient, since, limit, headSeq});
  } else {
    // ops.clinic_id follows the patient's clinic (movePatient updates it), so
    // this is one range scan of the (clinic_id, seq) index.
    rows = c.query(
        "SELECT seq, body, patient_id FROM ops WHERE clinic_id = $1 AND seq > $2 AND seq <= $4 "
        "ORDER BY seq LIMIT $3",
        P{device.clinic, since, limit, headSeq});
  }
  if (!rows.isOk()) return rows.status();
  std::set<std::string> read;
  for (const DbRow& r : rows.value()) {
    out.ops.push_back(dbBytes(r[1]));
    read.insert(dbText(r[2]));
  }
  out.patientsRead.assign(read.begin(), read.end());
  out.more = static_cast<std::int64_t>(rows.value().size()) == limit;
  out.next = out.more ? dbInt(rows.value().back()[0]) : std::max(since, headSeq);
  if (!out.more && !patient.empty() && !rows.value().empty()) out.next = dbInt(rows.value().back()[0]);

  if (patient.empty()) {
    auto moves = c.query(
        "SELECT s.patient_id, s.from_clinic, s.to_clinic, p.clinic_id FROM scope_changes s "
        "JOIN patients p ON p.id = s.patient_id WHERE s.seq > $1 AND s.seq <= $2 "
        "AND (s.from_clinic = $3 OR s.to_clinic = $3) ORDER BY s.seq",
        P{since, out.next, device.clinic});
    if (!moves.isOk()) return moves.status();
    std::set<std::string> purge, enter;
    for (const DbRow& r : moves.value()) {
      const std::string& p = dbText(r[0]);
      if (dbText(r[3]) == device.clinic) {
        enter.insert(p);
      } else {
        purge.insert(p);
      }
    }
    out.purge.assign(purge.begin(), purge.end());
    out.enter.assign(enter.begin(), enter.end());
  }
  return out;
}

Status recordPull(WriteTx& tx, const Device& device, const PullResult& pulled, bool wholeCursor) {
  for (const std::string& p : pulled.patientsRead) {
    tx.audit({"", "", "", "chart.sync_read", device.clinic, p, "{}"});
  }
  if (wholeCursor) {
    return tx.conn().exec("UPDATE devices SET last_seen_at = $2, last_pull_at = $2, last_pull_seq = $3 WHERE id = $1",
                          P{device.id, tx.now(), pulled.next});
  }
  return tx.conn().exec("UPDATE devices SET last_seen_at = $2 WHERE id = $1", P{device.id, tx.now()});
}

Status movePatient(WriteTx& tx, const std::string& patient, const std::string& toClinic) {
  auto info = patientInfo(tx.conn(), patient);
  if (!info.isOk()) return info.status();
  if (!info.value().exists) return Status::notFound("patient " + patient + " does not exist");
  auto clinic = findClinic(tx.conn(), toClinic);
  if (!clinic.isOk()) return clinic.status();
  if (!clinic.value()) return Status::notFound("clinic " + toClinic + " does not exist");
  if (info.value().clinic == toClinic) return Status::ok();
  std::int64_t seq = ++tx.head().opSeq;
  Status s = tx.conn().exec(
      "INSERT INTO scope_changes (seq, patient_id, from_clinic, to_clinic, at) VALUES ($1, $2, $3, $4, $5)",
      P{seq, patient, info.value().clinic, toClinic, tx.now()});
  if (s.isOk()) s = tx.conn().exec("UPDATE patients SET clinic_id = $2 WHERE id = $1", P{patient, toClinic});
  if (s.isOk()) s = tx.conn().exec("UPDATE conflicts SET clinic_id = $2 WHERE patient_id = $1", P{patient, toClinic});
  if (s.isOk()) s = tx.conn().exec("UPDATE ops SET clinic_id = $2 WHERE patient_id = $1", P{patient, toClinic});
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "patient.move", toClinic, patient,
            detailOf(json::Object{{"from", info.value().clinic}, {"to", toClinic}})});
  return Status::ok();
}

std::string normaliseIdentifier(std::string_view identifier) {
  std::string out;
  out.reserve(identifier.size());
  for (char ch : identifier) {
    if (isAsciiSpace(ch) || ch == '-') continue;
    out += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  return out;
}

bool validDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < lengths[i]; ++k) {
      char ch = date[starts[i] + k];
      if (ch < '0' || ch > '9') return false;
      parts[i] = parts[i] * 10 + (ch - '0');
    }
  }
  const int year = parts[0], month = parts[1], day = parts[2];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

std::set<std::string> patientKeysOf(const crdt::ChartDocument& doc) {
  std::set<std::string> keys;
  // The value the chart shows: the same one a tablet shows in the chart's header.
  const crdt::Register& birth = doc.demographic(crdt::field::kBirthDate);
  if (birth.empty()) return keys;
  const std::string* date = std::get_if<std::string>(&birth.current().value);
  if (date == nullptr || !validDate(*date)) return keys;
  for (const auto& [id, entry] : doc.entries(crdt::Collection::kIdentifiers)) {
    // Inactive and entered-in-error identifiers no longer name the patient.
    if (entry.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kActive)) continue;
    crdt::Value value = entry.fieldValue(crdt::field::kIdentifierValue);
    const std::string* text = std::get_if<std::string>(&value);
    if (text == nullptr) continue;
    std::string normalised = normaliseIdentifier(*text);
    // A longer value cannot be typed into a lookup, and would not fit a
    // PostgreSQL index row: keeping it out keeps every push storable.
    if (normalised.empty() || normalised.size() > kBreakGlassIdentifierBytes) continue;
    keys.insert(*date + "|" + normalised);
  }
  return keys;
}

Result<bool> ensurePatientKeys(WriteTx& tx) {
  Connection& c = tx.conn();
  auto marker = c.query("SELECT value FROM meta WHERE key = 'patient_keys'");
  if (!marker.isOk()) return marker.status();
  if (!marker.value().empty()) return false;
  // Rows written since the table appeared are rebuilt too: one pass from the
  // op log, the truth, under the head lock so no push interleaves.
  Status s = c.exec("DELETE FROM patient_keys");
  if (!s.isOk()) return s;
  auto patients = c.query("SELECT id FROM patients ORDER BY id");
  if (!patients.isOk()) return patients.status();
  std::vector<std::vector<DbValue>> rows;
  auto flush = [&]() -> Status {
    if (rows.empty()) return Status::ok();
    auto r = c.queryMany("INSERT INTO patient_keys (patient_id, key) VALUES ($1, $2)", rows);
    rows.clear();
    return r.status();
  };
  for (const DbRow& p : patients.value()) {
    const std::string patient = dbText(p[0]);
    // One chart at a time, outside the cache: a store's every chart at once
    // may not fit in memory.
    crdt::ChartDocument doc(patient);
    auto ops = c.query("SELECT seq, body FROM ops WHERE patient_id = $1 ORDER BY seq", P{patient});
    if (!ops.isOk()) return ops.status();
    for (const DbRow& r : ops.value()) {
      auto op = crdt::decodeOp(dbBytes(r[1]));
      if (!op.isOk()) {
        return Status::corruption("stored op " + std::to_string(dbInt(r[0])) +
                                  " does not decode: " + op.status().message());
      }
      (void)doc.apply(op.value());
    }
    for (const std::string& key : patientKeysOf(doc)) rows.push_back({patient, key});
    if (rows.size() >= 1000) {
      s = flush();
      if (!s.isOk()) return s;
    }
  }
  s = flush();
  if (!s.isOk()) return s;
  s = c.exec(
      "INSERT INTO meta (key, value) VALUES ('patient_keys', '1') "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!s.isOk()) return s;
  return true;
}

Result<BreakGlassResult> breakGlassLookup(WriteTx& tx, const Device& device, const std::string& identifier,
                                          const std::string& birthDate, const std::string& reason) {
  BreakGlassResult out;
  auto built = ensurePatientKeys(tx);
  if (!built.isOk()) return built.status();
  out.keysBuilt = built.value();
  Connection& c = tx.conn();
  out.head = tx.head().opSeq;
  auto rows = c.query(
      "SELECT k.patient_id, p.clinic_id FROM patient_keys k JOIN patients p ON p.id = k.patient_id "
      "WHERE k.key = $1 ORDER BY k.patient_id LIMIT 2",
      P{birthDate + "|" + normaliseIdentifier(identifier)});
  if (!rows.isOk()) return rows.status();
  if (rows.value().size() != 1) {
    // No patient is named in the audit of an ambiguous lookup either: the
    // nurse was not shown one.
    out.outcome = rows.value().empty() ? BreakGlassResult::Outcome::kNotFound : BreakGlassResult::Outcome::kAmbiguous;
    tx.audit({"", "", "", "chart.break_glass_refused", device.clinic, "",
              detailOf(json::Object{{"reason", reason},
                                    {"identifier", identifier},
                                    {"birth_date", birthDate},
                                    {"outcome", rows.value().empty() ? "not_found" : "ambiguous"}})});
    return out;
  }
  out.patient = dbText(rows.value()[0][0]);
  out.clinic = dbText(rows.value()[0][1]);
  if (out.clinic == device.clinic) {
    out.outcome = BreakGlassResult::Outcome::kInScope;
    tx.audit({"", "", "", "chart.lookup", device.clinic, out.patient, detailOf(json::Object{{"reason", reason}})});
    return out;
  }
  // Read in the transaction that writes the audit event: the copy handed out
  // is exactly the chart as of the event, up to `head`.
  auto ops = c.query("SELECT body FROM ops WHERE patient_id = $1 ORDER BY seq", P{out.patient});
  if (!ops.isOk()) return ops.status();
  out.ops.reserve(ops.value().size());
  for (const DbRow& r : ops.value()) out.ops.push_back(dbBytes(r[0]));
  out.outcome = BreakGlassResult::Outcome::kOutOfScope;
  tx.audit({"", "", "", "chart.break_glass", device.clinic, out.patient,
            detailOf(json::Object{{"reason", reason}, {"patient_clinic", out.clinic}})});
  return out;
}

json::Value valueToJson(const crdt::Value& v) {
  return std::visit(crdt::Overloaded{
                        [](std::monostate) { return json::Value(); },
                        [](const std::string& s) { return json::Value(s); },
                        [](std::int64_t i) { return json::Value(i); },
                        [](double d) { return json::Value(d); },
                        [](bool b) { return json::Value(b); },
                    },
                    v);
}

json::Value conflictToJson(const crdt::Conflict& k) {
  json::Array values;
  for (const crdt::ConflictValue& cv : k.values) {
    values.push_back(json::Object{{"value", valueToJson(cv.value)},
                                  {"op", crdt::toString(cv.op)},
                                  {"author", cv.author},
                                  {"device", std::to_string(cv.device.value)},
                                  {"hlc", crdt::toString(cv.hlc)},
                                  {"reason", cv.reason}});
  }
  return json::Object{{"patient", k.patient}, {"path", k.path},       {"note", k.isNote},
                      {"clinical", k.clinical}, {"shown", valueToJson(k.shown)}, {"values", std::move(values)}};
}

namespace {

// " AND ..." for the filter, its parameters appended to `params`.
std::string conflictWhere(const ConflictFilter& f, std::vector<DbValue>& params) {
  std::string sql;
  auto equal = [&](const std::string& value, const char* column) {
    if (value.empty()) return;
    params.push_back(value);
    sql += std::string(" AND ") + column + " = $" + std::to_string(params.size());
  };
  equal(f.clinic, "clinic_id");
  equal(f.patient, "patient_id");
  equal(f.id, "id");
  if (!f.pathPrefix.empty()) {
    // substr, not LIKE: a prefix with % or _ in it means itself.
    params.push_back(f.pathPrefix);
    sql += " AND substr(path, 1, " + std::to_string(f.pathPrefix.size()) + ") = $" + std::to_string(params.size());
  }
  if (f.openedBefore > 0) {
    params.push_back(f.openedBefore);
    sql += " AND opened_at < $" + std::to_string(params.size());
  }
  return sql;
}

}  // namespace

Result<std::vector<ConflictRow>> listConflicts(Connection& c, const ConflictFilter& filter, std::int64_t limit,
                                               std::int64_t offset) {
  std::vector<DbValue> params;
  std::string sql = "SELECT id, patient_id, clinic_id, path, clinical, opened_at, detail FROM conflicts WHERE 1 = 1" +
                    conflictWhere(filter, params);
  params.push_back(limit);
  sql += " ORDER BY clinical DESC, opened_at, id LIMIT $" + std::to_string(params.size());
  params.push_back(offset);
  sql += " OFFSET $" + std::to_string(params.size());
  auto rows = c.query(sql, params);
  if (!rows.isOk()) return rows.status();
  std::vector<ConflictRow> out;
  for (const DbRow& r : rows.value()) {
    out.push_back({dbText(r[0]), dbText(r[1]), dbText(r[2]), dbText(r[3]), dbInt(r[4]), dbInt(r[5]), dbText(r[6])});
  }
  return out;
}

Result<std::int64_t> countConflicts(Connection& c, const ConflictFilter& filter) {
  std::vector<DbValue> params;
  const std::string sql = "SELECT COUNT(*) FROM conflicts WHERE 1 = 1" + conflictWhere(filter, params);
  auto rows = c.query(sql, params);
  if (!rows.isOk()) return rows.status();
  return dbInt(rows.value()[0][0]);
}

Result<std::optional<OpOrigin>> opOrigin(Connection& c, const std::string& opId) {
  std::uint64_t replica = 0, seq = 0;
  const std::size_t dot = opId.find('.');
  if (opId.size() < 4 || opId[0] != 'r' || dot == std::string::npos) return std::optional<OpOrigin>();
  auto parse = [](std::string_view text, std::uint64_t& v) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && p == text.data() + text.size() && !text.empty();
  };
  if (!parse(std::string_view(opId).substr(1, dot - 1), replica) ||
      !parse(std::string_view(opId).substr(dot + 1), seq)) {
    return std::optional<OpOrigin>();
  }
  auto rows = c.query("SELECT device_id, received_at, hlc_wall FROM ops WHERE replica = $1 AND counter = $2",
                      P{static_cast<std::int64_t>(replica), static_cast<std::int64_t>(seq)});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return std::optional<OpOrigin>();
  OpOrigin out{dbText(rows.value()[0][0]), "", dbInt(rows.value()[0][1]), dbInt(rows.value()[0][2])};
  if (!out.device.empty()) {
    auto names = c.query("SELECT name FROM devices WHERE id = $1", P{out.device});
    if (!names.isOk()) return names.status();
    if (!names.value().empty()) out.deviceName = dbText(names.value()[0][0]);
  }
  return std::optional<OpOrigin>(std::move(out));
}

Result<Op> resolveConflict(WriteTx& tx, ChartCache& cache, std::uint64_t serverReplica, const std::string& conflictId,
                           const crdt::Value& value, const std::string& reason, const std::string& user) {
  auto rows = tx.conn().query("SELECT patient_id, clinic_id, path FROM conflicts WHERE id = $1", P{conflictId});
  if (!rows.isOk()) return rows.status();
  if (rows.value().empty()) return Status::notFound("conflict " + conflictId + " is not open");
  std::string patient = dbText(rows.value()[0][0]);
  std::string clinic = dbText(rows.value()[0][1]);
  std::string path = dbText(rows.value()[0][2]);
  tx.touch(patient);
  auto doc = cache.load(tx.conn(), patient);
  if (!doc.isOk()) return doc.status();
  std::optional<crdt::Conflict> found;
  for (crdt::Conflict& k : doc.value()->conflicts()) {
    if (k.path == path) found = std::move(k);
  }
  if (!found) return Status::notFound("conflict " + conflictId + " is not open");
  if (found->isNote) {
    return Status::invalidArgument("a note conflict is settled by its author: sign one version or add an addendum");
  }
  if (reason.empty()) return Status::invalidArgument("a resolution needs a reason");
  crdt::SystemWallClock clock;
  crdt::OpFactory factory(crdt::ReplicaId{serverReplica}, clock,
                          static_cast<std::uint64_t>(tx.head().serverCounter) + 1);
  factory.setUser(user);
  (void)factory.observe(doc.value()->latestHlc());
  Op op = factory.writeField(*doc.value(), found->field, value, reason);
  auto applied = doc.value()->apply(op);
  if (!applied.isOk()) return applied.status();
  tx.head().serverCounter = static_cast<std::int64_t>(op.id.seq);
  std::vector<std::int64_t> seqs;
  std::map<std::string, crdt::ChartDocument*> docs{{patient, doc.value()}};
  Status s = storeOps(tx, cache, docs, {&op}, "server", clinic, {false}, seqs);
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "conflict.resolve", clinic, patient,
            detailOf(json::Object{{"conflict", conflictId}, {"op", crdt::toString(op.id)}, {"seq", seqs[0]},
                                  {"value", valueToJson(value)}, {"reason", reason}})});
  return op;
}

}  // namespace charta::server
