// Chart checkpoints in the replica, on real SQLite files with real libsodium:
// the bytes round-trip every chart exactly, a chart opens from its
// checkpoint without opening the op rows it covers, and a checkpoint that is
// missing, stale, damaged or moved never changes what the chart shows.
#include <QTemporaryDir>
#include <QtTest>

#include "chart_checkpoint.h"
#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/replica.h"
#include "random_edits.h"
#include "sync/replica/raw_sqlite.h"

using namespace charta;
using namespace charta::sync;
using charta::testing::rawExec;
using charta::testing::rawFlipBit;
using charta::testing::rawScalar;

namespace {

constexpr const char* kPassphrase = "correct horse battery";

std::int64_t rawCount(const std::string& path, const std::string& sql) {
  const std::string v = rawScalar(path, sql);
  return v.empty() ? -1 : std::stoll(v);
}

// Every op still in a replica's outbox, encoded as a pulled page carries them.
PullPage pageOf(Replica& r, std::uint64_t next) {
  PullPage page;
  auto ops = r.outbox(100000);
  if (ops.isOk()) {
    const std::vector<crdt::Op> list = std::move(ops).value();
    for (const auto& op : list) page.ops.push_back(crdt::encodeOp(op));
  }
  page.next = next;
  return page;
}

std::string sqlText(const std::string& s) { return "'" + s + "'"; }

// The replica's pending audit events that report a tampered checkpoint.
int checkpointTamperEvents(Replica& r) {
  int n = 0;
  auto pending = r.pendingAudit(100000);
  const std::vector<DeviceAuditEvent> events =
      pending.isOk() ? std::move(pending).value() : std::vector<DeviceAuditEvent>{};
  for (const auto& ev : events) {
    if (ev.action == "replica.tamper_detected" && ev.detail.find("checkpoints") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

class CheckpointTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  int m_counter = 0;

  std::string newPath() { return m_dir.path().toStdString() + "/replica-" + std::to_string(++m_counter) + ".db"; }

  std::unique_ptr<Replica> make(const std::string& path, std::uint64_t replicaId) {
    DeviceIdentity id{"http://127.0.0.1:1", "dev-" + std::to_string(replicaId), crdt::ReplicaId{replicaId}, "demo",
                      "epoch-1"};
    ReplicaOptions options;
    options.autoLockMs = 0;
    auto r =
        Replica::create(path, id, "device-secret", m_vault, UserInfo{"nurse", "Nurse N.", {}, 0}, kPassphrase, options);
    if (!r.isOk()) qWarning() << r.status().toString().c_str();
    return r.isOk() ? std::move(r).value() : nullptr;
  }

  std::unique_ptr<Replica> reopen(const std::string& path) {
    ReplicaOptions options;
    options.autoLockMs = 0;
    auto r = Replica::open(path, options);
    if (!r.isOk()) return nullptr;
    if (!r.value()->unlock(m_vault, "nurse", kPassphrase).isOk()) return nullptr;
    return std::move(r).value();
  }

  static std::map<std::string, std::string> canonical(Replica& r) {
    std::map<std::string, std::string> out;
    for (const std::string& p : r.patients()) {
      auto doc = r.document(p);
      out[p] = doc.isOk() ? doc.value()->canonicalState() : "error: " + doc.status().toString();
    }
    return out;
  }

  // Two replicas that edited the same patients concurrently and exchanged
  // their ops: charts with conflicts, notes, statuses and observations.
  void mergedPair(std::unique_ptr<Replica>& a, std::unique_ptr<Replica>& b, int rounds) {
    a = make(newPath(), 3001);
    b = make(newPath(), 3002);
    QVERIFY(a && b);
    RandomEditor ea(*a, 11, 3);
    for (int i = 0; i < 40; ++i) QVERIFY(ea.editOnce().isOk());
    QVERIFY(b->applyPulled(pageOf(*a, 1)).isOk());
    RandomEditor eb(*b, 12, 3);
    for (int i = 0; i < rounds; ++i) {
      QVERIFY(ea.editOnce().isOk());
      QVERIFY(eb.editOnce().isOk());
    }
    QVERIFY(b->applyPulled(pageOf(*a, 2)).isOk());
    QVERIFY(a->applyPulled(pageOf(*b, 1)).isOk());
    QCOMPARE(a->stateHash().value(), b->stateHash().value());
  }

 private slots:
  void checkpointBytesRoundTripEveryChart() {
    std::unique_ptr<Replica> a, b;
    mergedPair(a, b, 150);
    std::size_t conflicts = 0;
    for (const std::string& p : a->patients()) {
      const crdt::ChartDocument& doc = *a->document(p).value();
      conflicts += doc.conflictCount();
      const std::string bytes = encodeCheckpoint(doc);
      auto back = decodeCheckpoint(bytes, p);
      QVERIFY2(back.isOk(), back.status().toString().c_str());
      QCOMPARE(back.value().canonicalState(), doc.canonicalState());
      QCOMPARE(back.value().conflictCount(), doc.conflictCount());
      QCOMPARE(back.value().knownCount(), doc.knownCount());
      QCOMPARE(encodeCheckpoint(back.value()), bytes);  // deterministic
      // Someone else's chart, cut bytes, another format, garbage: refused.
      QVERIFY(decodeCheckpoint(bytes, p + "x").status().code() == crdt::Status::Code::kCorruption);
      for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
        QVERIFY(!decodeCheckpoint(std::string_view(bytes).substr(0, cut), p).isOk());
      }
      std::string otherFormat = bytes;
      otherFormat[4] = static_cast<char>(otherFormat[4] + 1);
      QVERIFY(decodeCheckpoint(otherFormat, p).status().code() == crdt::Status::Code::kUnsupportedVersion);
      // Any flipped bit after the format (checksum or archive) is caught
      // before the archive is parsed.
      for (std::size_t i = 8; i < bytes.size(); i += 1 + bytes.size() / 64) {
        std::string garbled = bytes;
        garbled[i] = static_cast<char>(garbled[i] ^ 0x10);
        QVERIFY(decodeCheckpoint(garbled, p).status().code() == crdt::Status::Code::kCorruption);
      }
    }
    QVERIFY(conflicts > 0);
  }

  // The proof that opening does not replay: an op row the checkpoint covers
  // is damaged, and the chart still opens (from its checkpoint) exactly as
  // before; without the checkpoint the same chart must replay, meets the
  // damaged row and refuses.
  void chartsOpenFromTheirCheckpointWithoutReplaying() {
    const std::string path = newPath();
    std::map<std::string, std::string> before;
    std::string patient;
    {
      auto r = make(path, 3101);
      QVERIFY(r);
      RandomEditor e(*r, 21, 2);
      for (int i = 0; i < 300; ++i) QVERIFY(e.editOnce().isOk());
      before = canonical(*r);
      patient = r->patients().front();
    }
    QVERIFY(rawCount(path, "SELECT COUNT(*) FROM checkpoints WHERE patient = " + sqlText(patient)) == 1);
    // The oldest op of the patient is covered by any checkpoint.
    const std::string firstSeq = rawScalar(path, "SELECT MIN(seq) FROM ops WHERE patient = " + sqlText(patient));
    QVERIFY(!firstSeq.empty());
    rawExec(path, "UPDATE ops SET sealed = zeroblob(length(sealed)) WHERE patient = " + sqlText(patient) +
                      " AND seq = " + firstSeq);
    {
      auto r = reopen(path);
      QVERIFY(r);
      QVERIFY(canonical(*r) == before);
    }
    rawExec(path, "DELETE FROM checkpoints");
    auto r = reopen(path);
    QVERIFY(r);
    auto doc = r->document(patient);
    QVERIFY(!doc.isOk());
    QVERIFY(doc.status().code() == crdt::Status::Code::kCorruption);
  }

  void opsAfterTheCheckpointAreAppliedOnTop() {
    const std::string path = newPath();
    std::string oldVersion, oldKnown, oldSealed, patient;
    std::map<std::string, std::string> expected;
    {
      auto r = make(path, 3201);
      QVERIFY(r);
      RandomEditor e(*r, 31, 1);
      for (int i = 0; i < 80; ++i) QVERIFY(e.editOnce().isOk());
      patient = r->patients().front();
    }
    // An older checkpoint, kept aside (as someone replaying an old row would).
    const std::string where = " FROM checkpoints WHERE patient = " + sqlText(patient);
    oldVersion = rawScalar(path, "SELECT version" + where);
    oldKnown = rawScalar(path, "SELECT known" + where);
    oldSealed = rawScalar(path, "SELECT hex(sealed)" + where);
    QVERIFY(!oldSealed.empty());
    {
      auto r = reopen(path);
      QVERIFY(r);
      RandomEditor e(*r, 32, 1);
      for (int i = 0; i < 200; ++i) QVERIFY(e.editOnce().isOk());
      expected = canonical(*r);
    }
    QVERIFY(rawScalar(path, "SELECT version" + where) != oldVersion);  // rewritten since
    rawExec(path, "UPDATE checkpoints SET version = " + oldVersion + ", known = " + oldKnown + ", sealed = X'" +
                      oldSealed + "' WHERE patient = " + sqlText(patient));
    {
      // The summary names the current checkpoint: the old one is refused
      // and audited, and the chart replayed from its ops.
      auto r = reopen(path);
      QVERIFY(r);
      QVERIFY(canonical(*r) == expected);
      QCOMPARE(checkpointTamperEvents(*r), 1);
    }
    // A replica written before checkpoints existed: replayed, and the read
    // leaves a checkpoint behind.
    rawExec(path, "DELETE FROM checkpoints");
    {
      auto r = reopen(path);
      QVERIFY(r);
      QVERIFY(r->chart(patient, "view").isOk());
      QVERIFY(canonical(*r) == expected);
    }
    QCOMPARE(rawCount(path, "SELECT COUNT(*)" + where), std::int64_t{1});
  }

  void damagedOrMovedCheckpointIsAuditedAndTheChartReplayed() {
    const std::string path = newPath();
    std::map<std::string, std::string> expected;
    std::vector<std::string> patients;
    {
      auto r = make(path, 3301);
      QVERIFY(r);
      RandomEditor e(*r, 41, 2);
      for (int i = 0; i < 400; ++i) QVERIFY(e.editOnce().isOk());
      expected = canonical(*r);
      patients = r->patients();
    }
    QVERIFY(patients.size() >= 2);
    QVERIFY(rawCount(path, "SELECT COUNT(*) FROM checkpoints") >= 2);
    // One bit flipped in the first checkpoint.
    rawFlipBit(path, "checkpoints", "sealed", "patient = " + sqlText(patients[0]), 40);
    {
      auto r = reopen(path);
      QVERIFY(r);
      QVERIFY(canonical(*r) == expected);
      QCOMPARE(checkpointTamperEvents(*r), 1);
    }
    // Another patient's checkpoint copied over: bound to its patient, refused.
    rawExec(path,
            "UPDATE checkpoints SET sealed = (SELECT sealed FROM checkpoints WHERE patient = " + sqlText(patients[1]) +
                "), version = (SELECT version FROM checkpoints WHERE patient = " + sqlText(patients[1]) +
                ") WHERE patient = " + sqlText(patients[0]));
    {
      auto r = reopen(path);
      QVERIFY(r);
      QVERIFY(canonical(*r) == expected);
      QVERIFY(checkpointTamperEvents(*r) >= 2);
    }
  }

  void opsOfANewerKindSurviveACheckpoint() {
    auto a = make(newPath(), 3501);
    const std::string pathB = newPath();
    auto b = make(pathB, 3502);
    QVERIFY(a && b);
    RandomEditor ea(*a, 61, 1);
    for (int i = 0; i < 30; ++i) QVERIFY(ea.editOnce().isOk());
    auto outbox = a->outbox(100000);
    QVERIFY(outbox.isOk());
    std::vector<crdt::Op> ops = std::move(outbox).value();
    // A newer release's op, building on the last one, and one that saw it.
    crdt::Op newer = ops.back();
    newer.id.seq += 1000;
    newer.body = crdt::UnknownOp{13, std::string("newer\0body", 10)};
    newer.context = {ops.back().id};
    crdt::Op later = newer;
    later.id.seq += 1;
    later.body = crdt::UnknownOp{8, {}};
    later.context = {newer.id};
    PullPage page;
    for (const crdt::Op& op : ops) page.ops.push_back(crdt::encodeOp(op));
    page.ops.push_back(crdt::encodeOp(later));  // before what it needs: held first
    page.ops.push_back(crdt::encodeOp(newer));
    page.next = 1;
    auto applied = b->applyPulled(page);
    QVERIFY2(applied.isOk(), applied.status().toString().c_str());
    QCOMPARE(applied.value().stored, ops.size() + 2);
    const std::string patient = newer.patient;
    const std::string before = b->document(patient).value()->canonicalState();
    QCOMPARE(b->document(patient).value()->newerOps().size(), std::size_t{2});
    b.reset();
    QCOMPARE(rawCount(pathB, "SELECT COUNT(*) FROM checkpoints WHERE patient = " + sqlText(patient)), std::int64_t{1});
    b = reopen(pathB);
    QVERIFY(b);
    auto doc = b->document(patient);
    QVERIFY2(doc.isOk(), doc.status().toString().c_str());
    QCOMPARE(doc.value()->canonicalState(), before);
    QVERIFY(doc.value()->newerOps().at(newer.id) == newer);
    QVERIFY(doc.value()->newerOps().at(later.id) == later);
  }

  void heldOpsSurviveACheckpoint() {
    auto a = make(newPath(), 3401);
    const std::string pathB = newPath();
    auto b = make(pathB, 3402);
    QVERIFY(a && b);
    RandomEditor ea(*a, 51, 1);
    for (int i = 0; i < 120; ++i) QVERIFY(ea.editOnce().isOk());
    auto outbox = a->outbox(100000);
    QVERIFY(outbox.isOk());
    const std::vector<crdt::Op> ops = std::move(outbox).value();
    // b gets everything but the op most others build on: they wait for it.
    std::map<crdt::OpId, int> dependents;
    for (const crdt::Op& op : ops) {
      for (const crdt::OpId& dep : crdt::dependenciesOf(op)) ++dependents[dep];
    }
    std::size_t missing = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (dependents[ops[i].id] > dependents[ops[missing].id]) missing = i;
    }
    QVERIFY(dependents[ops[missing].id] > 1);
    PullPage gap;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (i != missing) gap.ops.push_back(crdt::encodeOp(ops[i]));
    }
    gap.next = 1;
    auto applied = b->applyPulled(gap);
    QVERIFY(applied.isOk());
    QVERIFY(applied.value().held > 0);
    const std::uint64_t held = b->summary(ops[missing].patient).value().heldOps;
    QVERIFY(held > 0);
    b.reset();
    QCOMPARE(rawCount(pathB, "SELECT COUNT(*) FROM checkpoints"), std::int64_t{1});
    b = reopen(pathB);
    QVERIFY(b);
    QCOMPARE(b->document(ops[missing].patient).value()->heldCount(), std::size_t(held));
    PullPage rest;
    rest.ops.push_back(crdt::encodeOp(ops[missing]));
    rest.next = 2;
    QVERIFY(b->applyPulled(rest).isOk());
    QCOMPARE(b->document(ops[missing].patient).value()->heldCount(), std::size_t{0});
    QCOMPARE(b->stateHash().value(), a->stateHash().value());
  }
};

QTEST_GUILESS_MAIN(CheckpointTest)
#include "checkpoint_test.moc"
