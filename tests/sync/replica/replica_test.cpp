// The encrypted replica on real SQLite files with real libsodium: unlock and
// lock, several users, persistence, the outbox, merging another replica's
// ops, scope purge, audit events, and what a tampered file does.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sstream>

#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/replica.h"
#include "random_edits.h"
#include "sync/replica/raw_sqlite.h"

using namespace charta;
using namespace charta::sync;
using charta::testing::rawExec;
using charta::testing::rawScalar;
using crdt::Collection;
using crdt::FieldRef;
using crdt::Value;

namespace {

class ManualClock final : public crdt::WallClock {
 public:
  std::uint64_t nowMs() const override { return now; }
  std::uint64_t now = 1'790'000'000'000;
};

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

crdt::Op writeName(crdt::OpFactory& f, const crdt::ChartDocument& doc, const std::string& name) {
  return f.writeField(doc, FieldRef{Collection::kDemographics, {}, crdt::field::kFamilyName}, Value{name});
}

}  // namespace

class ReplicaTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  int m_counter = 0;

  std::string newPath() { return m_dir.path().toStdString() + "/replica-" + std::to_string(++m_counter) + ".db"; }

  std::unique_ptr<Replica> make(const std::string& path, std::uint64_t replicaId = 1001, ReplicaOptions options = {}) {
    DeviceIdentity id{"http://127.0.0.1:1", "dev-" + std::to_string(replicaId), crdt::ReplicaId{replicaId}, "demo",
                      "epoch-1"};
    auto r = Replica::create(path, id, "device-secret-XYZ", m_vault, UserInfo{"nurse", "Nurse N.", {}, 0},
                             "correct horse battery", options);
    if (!r.isOk()) qWarning() << r.status().toString().c_str();
    return r.isOk() ? std::move(r).value() : nullptr;
  }

 private slots:
  void createUnlockLockAndReopen() {
    const std::string path = newPath();
    std::string patient;
    std::string stateBefore;
    {
      auto r = make(path);
      QVERIFY(r);
      QVERIFY(r->isUnlocked());
      patient = Replica::newPatientId();
      auto op = r->edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "Okafor"); });
      QVERIFY2(op.isOk(), op.status().toString().c_str());
      QCOMPARE(r->pendingOpCount(), std::uint64_t{1});
      auto doc = r->document(patient);
      QVERIFY(doc.isOk());
      stateBefore = doc.value()->canonicalState();
      r->lock();
      QVERIFY(!r->isUnlocked());
      auto refused = r->edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "X"); });
      QVERIFY(!refused.isOk());
      QVERIFY(refused.status().code() == crdt::Status::Code::kRejected);
      QVERIFY(!r->chart(patient).isOk());
      QVERIFY(!r->deviceSecret().isOk());
    }
    auto reopened = Replica::open(path);
    QVERIFY2(reopened.isOk(), reopened.status().toString().c_str());
    Replica& r = *reopened.value();
    QVERIFY(!r.isUnlocked());
    QVERIFY(r.identity().replica.value == 1001);
    QVERIFY(r.identity().clinic == "demo");
    Status wrong = r.unlock(m_vault, "nurse", "not the passphrase");
    QVERIFY(wrong.code() == crdt::Status::Code::kRejected);
    QVERIFY(r.unlock(m_vault, "nobody", "correct horse battery").code() == crdt::Status::Code::kNotFound);
    QVERIFY(r.unlock(m_vault, "nurse", "correct horse battery").isOk());
    auto doc = r.document(patient);
    QVERIFY(doc.isOk());
    QVERIFY(doc.value()->canonicalState() == stateBefore);
    QVERIFY(r.deviceSecret().isOk() && r.deviceSecret().value() == "device-secret-XYZ");
    // Numbering goes on after the last op: no op id is ever reused.
    auto next = r.edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "Okafor-Smith"); });
    QVERIFY(next.isOk());
    QCOMPARE(next.value().id.seq, std::uint64_t{2});
    QVERIFY(next.value().hlc > doc.value()->latestHlc() || next.value().hlc == r.document(patient).value()->latestHlc());
  }

  void createRefusesAnExistingFileAndOpenNeedsOne() {
    const std::string path = newPath();
    QVERIFY(make(path));
    DeviceIdentity id{"u", "d", crdt::ReplicaId{5}, "demo", ""};
    auto again = Replica::create(path, id, "s", m_vault, UserInfo{"nurse", "", {}, 0}, "correct horse battery");
    QVERIFY(again.status().code() == crdt::Status::Code::kAlreadyExists);
    QVERIFY(Replica::open(newPath()).status().code() == crdt::Status::Code::kNotFound);
    // A short passphrase is refused before anything is written.
    const std::string other = newPath();
    auto weak = Replica::create(other, id, "s", m_vault, UserInfo{"nurse", "", {}, 0}, "short");
    QVERIFY(!weak.isOk());
    QVERIFY(!QFile::exists(QString::fromStdString(other)));
  }

  void aFileFromANewerCharta() {
    const std::string path = newPath();
    QVERIFY(make(path));
    rawExec(path, "UPDATE meta SET value = '99' WHERE key = 'format'");
    QVERIFY(Replica::open(path).status().code() == crdt::Status::Code::kUnsupportedVersion);
    const std::string junk = newPath();
    {
      std::ofstream out(junk, std::ios::binary);
      out << std::string(8192, 'x');
    }
    auto opened = Replica::open(junk);
    QVERIFY(!opened.isOk());
  }

  void severalUsersShareOneTablet() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    QVERIFY(r->addUser(m_vault, UserInfo{"lea", "Lea K.", {}, 0}, "lea's own passphrase").isOk());
    QVERIFY(r->addUser(m_vault, UserInfo{"lea", "Lea K.", {}, 0}, "lea's own passphrase").code() ==
            crdt::Status::Code::kAlreadyExists);
    const std::string patient = Replica::newPatientId();
    QVERIFY(r->edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "Haddad"); }).isOk());
    r->lock();
    QVERIFY(r->unlock(m_vault, "lea", "correct horse battery").code() == crdt::Status::Code::kRejected);
    QVERIFY(r->unlock(m_vault, "lea", "lea's own passphrase").isOk());
    QVERIFY(r->currentUser() == "lea");
    auto op = r->edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "Haddad-Lind"); });
    QVERIFY(op.isOk());
    QVERIFY(op.value().author == "lea");
    QCOMPARE(r->users().size(), std::size_t{2});
    QVERIFY(r->changePassphrase(m_vault, "lea's own passphrase", "a brand new passphrase").isOk());
    r->lock();
    QVERIFY(r->unlock(m_vault, "lea", "lea's own passphrase").code() == crdt::Status::Code::kRejected);
    QVERIFY(r->unlock(m_vault, "lea", "a brand new passphrase").isOk());
  }

  // A passphrase change writes a new wrapped key; the old one put back from a
  // copy of the file would let the old passphrase in again. The ledger holds
  // the digest of the wrap written last: refused and audited. Its own loss
  // is audited and it is rebuilt; a replica of format 1 gets one quietly.
  void anOldWrapPutBackDoesNotLetTheOldPassphraseIn() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    QVERIFY(r->addUser(m_vault, UserInfo{"lea", "Lea K.", {}, 0}, "lea's leaked passphrase").isOk());
    const std::string oldWrap = rawScalar(path, "SELECT hex(wrap) FROM users WHERE id = 'lea'");
    QVERIFY(r->unlock(m_vault, "lea", "lea's leaked passphrase").isOk());
    QVERIFY(r->changePassphrase(m_vault, "lea's leaked passphrase", "lea's new passphrase").isOk());
    r.reset();
    rawExec(path, "UPDATE users SET wrap = X'" + oldWrap + "' WHERE id = 'lea'");
    r = Replica::open(path).value();
    QVERIFY(r->unlock(m_vault, "lea", "lea's leaked passphrase").code() == crdt::Status::Code::kCorruption);
    QVERIFY(!r->isUnlocked());
    QVERIFY(r->unlock(m_vault, "lea", "lea's new passphrase").code() == crdt::Status::Code::kRejected);
    QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
    auto tampered = [&](const std::string& table) {
      int n = 0;
      const auto events = r->pendingAudit(1000);
      if (!events.isOk()) return -1;
      for (const auto& e : events.value()) {
        n += e.action == "replica.tamper_detected" && e.detail.find("\"table\":\"" + table + "\"") != std::string::npos;
      }
      return n;
    };
    QCOMPARE(tampered("users"), 1);
    QCOMPARE(tampered("secrets"), 0);
    QVERIFY(r->storeSession(Session{"token-1", 1'800'000'000'000, "nurse", "Nurse N.", "nurse", "demo"}).isOk());
    // The ledger deleted: audited, rebuilt from the rows as they are.
    r.reset();
    rawExec(path, "DELETE FROM secrets WHERE name = 'ledger'");
    r = Replica::open(path).value();
    QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
    QCOMPARE(tampered("secrets"), 1);
    QCOMPARE(r->session("nurse").value()->token, std::string("token-1"));
    // A replica of format 1 (no ledger yet): it gets one, nothing audited.
    r.reset();
    rawExec(path, "DELETE FROM secrets WHERE name = 'ledger'; UPDATE meta SET value = '1' WHERE key = 'format'");
    r = Replica::open(path).value();
    QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
    QCOMPARE(tampered("secrets"), 1);
    QCOMPARE(rawScalar(path, "SELECT value FROM meta WHERE key = 'format'"), std::string("2"));
    QCOMPARE(rawScalar(path, "SELECT COUNT(*) FROM secrets WHERE name = 'ledger'"), std::string("1"));
    QCOMPARE(r->session("nurse").value()->token, std::string("token-1"));
    // A session forgotten and put back: the ledger no longer knows it.
    const std::string session = rawScalar(path, "SELECT hex(sealed) FROM secrets WHERE name = 'session:nurse'");
    QVERIFY(r->forgetSession("nurse").isOk());
    r.reset();
    rawExec(path, "INSERT INTO secrets (name, sealed) VALUES ('session:nurse', X'" + session + "')");
    r = Replica::open(path).value();
    QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
    QVERIFY(r->session("nurse").status().code() == crdt::Status::Code::kCorruption);
    QCOMPARE(tampered("secrets"), 2);
  }

  void locksItselfWhenIdle() {
    ManualClock clock;
    ReplicaOptions options;
    options.clock = &clock;
    options.autoLockMs = 60'000;
    auto r = make(newPath(), 1002, options);
    QVERIFY(r);
    clock.now += 59'000;
    QVERIFY(r->touch());
    clock.now += 59'000;
    QVERIFY(r->touch());  // activity restarted the idle time
    clock.now += 60'000;
    QVERIFY(!r->touch());
    QVERIFY(!r->isUnlocked());
    QVERIFY(!r->deviceSecret().isOk());
  }

  // 1,000 canary strings in charts; none of them, nor the device secret, in
  // the database, its WAL or its journal.
  void canariesNeverReachTheDisk() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    std::vector<std::string> canaries;
    std::vector<std::string> patients;
    for (int i = 0; i < 20; ++i) patients.push_back(Replica::newPatientId());
    for (int i = 0; i < 1000; ++i) {
      const std::string canary = "CANARY" + std::to_string(700000 + i) + "Q";
      canaries.push_back(canary);
      const std::string& patient = patients[static_cast<std::size_t>(i) % patients.size()];
      auto op = r->edit(patient, [&](crdt::OpFactory& f, const crdt::ChartDocument& d) {
        switch (i % 3) {
          case 0:
            return writeName(f, d, canary);
          case 1:
            return f.startNote(d, "note " + canary);
          default:
            return f.addEntry(d, Collection::kAllergies, {crdt::FieldValue{crdt::field::kDisplay, Value{canary}}});
        }
      });
      QVERIFY2(op.isOk(), op.status().toString().c_str());
    }
    // Reads and summaries too (they write audit events and summaries).
    for (const auto& p : patients) QVERIFY(r->chart(p).isOk() && r->summary(p).isOk());
    auto summary = r->summary(patients[0]);
    QVERIFY(summary.value().familyName.rfind("CANARY", 0) == 0);
    int hits = 0;
    int filesScanned = 0;
    for (const std::string& file : {path, path + "-wal", path + "-shm", path + "-journal"}) {
      if (!QFile::exists(QString::fromStdString(file))) continue;
      ++filesScanned;
      const std::string bytes = fileBytes(file);
      for (const auto& c : canaries) hits += bytes.find(c) != std::string::npos;
      hits += bytes.find("CANARY") != std::string::npos;
      hits += bytes.find("device-secret-XYZ") != std::string::npos;
    }
    QVERIFY(filesScanned >= 2);  // the database and its WAL at least
    QVERIFY(QFileInfo(QString::fromStdString(path + "-wal")).size() > 0);
    QCOMPARE(hits, 0);
    // The same scan finds a canary that is written in the clear (the scan works).
    rawExec(path, "INSERT INTO meta (key, value) VALUES ('probe', 'CANARY700001Q')");
    QVERIFY(fileBytes(path).find("CANARY700001Q") != std::string::npos ||
            fileBytes(path + "-wal").find("CANARY700001Q") != std::string::npos);
  }

  void outboxAndAcknowledgements() {
    auto r = make(newPath());
    QVERIFY(r);
    RandomEditor editor(*r, 7, 3);
    for (int i = 0; i < 50; ++i) QVERIFY(editor.editOnce().isOk());
    const std::uint64_t pending = r->pendingOpCount();
    QVERIFY(pending >= 50);
    auto out = r->outbox(1000);
    QVERIFY(out.isOk());
    QCOMPARE(out.value().size(), pending);
    for (std::size_t i = 1; i < out.value().size(); ++i) QVERIFY(out.value()[i - 1].id < out.value()[i].id);
    std::vector<Replica::Ack> acks;
    for (std::size_t i = 0; i < out.value().size(); ++i) {
      acks.push_back({out.value()[i].id, i == 3 ? 0 : 100 + i, i == 3 ? "an op must name its author" : ""});
    }
    QVERIFY(r->acknowledge(acks).isOk());
    QCOMPARE(r->pendingOpCount(), std::uint64_t{0});
    QVERIFY(r->outbox(10).value().empty());
  }

  // Two replicas exchange ops as the server would relay them: equal hashes,
  // and applying a page twice changes nothing.
  void mergingAnotherReplicasOps() {
    auto a = make(newPath(), 2001);
    auto b = make(newPath(), 2002);
    QVERIFY(a && b);
    RandomEditor ea(*a, 1, 3);
    for (int i = 0; i < 60; ++i) QVERIFY(ea.editOnce().isOk());
    auto fromA = a->outbox(10000).value();
    PullPage page;
    for (const auto& op : fromA) page.ops.push_back(crdt::encodeOp(op));
    page.next = fromA.size();
    auto applied = b->applyPulled(page);
    QVERIFY2(applied.isOk(), applied.status().toString().c_str());
    QCOMPARE(applied.value().stored, fromA.size());
    QCOMPARE(b->cursor(), std::uint64_t{fromA.size()});
    QVERIFY(a->stateHash().value() == b->stateHash().value());
    auto again = b->applyPulled(page);
    QVERIFY(again.isOk());
    QCOMPARE(again.value().duplicates, fromA.size());
    QCOMPARE(again.value().stored, std::size_t{0});
    // b edits the same patients concurrently; both converge after exchanging.
    RandomEditor eb(*b, 2, 3);
    for (int i = 0; i < 120; ++i) {
      QVERIFY(eb.editOnce().isOk());
      QVERIFY(ea.editOnce().isOk());
    }
    PullPage forth;
    const auto moreFromA = a->outbox(10000).value();
    for (const auto& op : moreFromA) forth.ops.push_back(crdt::encodeOp(op));
    forth.next = page.next + 1;
    QVERIFY(b->applyPulled(forth).isOk());
    PullPage back;
    const auto fromB = b->outbox(10000).value();
    for (const auto& op : fromB) back.ops.push_back(crdt::encodeOp(op));
    back.next = 1;
    QVERIFY(a->applyPulled(back).isOk());
    QVERIFY(a->stateHash().value() == b->stateHash().value());
    QVERIFY(a->stateHash().value() != std::string());
    std::size_t conflicts = 0;
    for (const auto& p : a->patients()) conflicts += a->document(p).value()->conflicts().size();
    QVERIFY(conflicts > 0);  // both wrote the same fields concurrently
    // A page that does not decode is refused whole: the cursor stays.
    PullPage bad;
    bad.ops.push_back("not an op");
    bad.next = 999;
    QVERIFY(b->applyPulled(bad).status().code() == crdt::Status::Code::kCorruption);
    QCOMPARE(b->cursor(), forth.next);
    QVERIFY(a->stateHash().value() == b->stateHash().value());
  }

  void purgeDestroysThePatientsKeyAndRows() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    const std::string gone = Replica::newPatientId();
    const std::string kept = Replica::newPatientId();
    QVERIFY(r->edit(gone, [](auto& f, const auto& d) { return writeName(f, d, "Moreau"); }).isOk());
    QVERIFY(r->edit(kept, [](auto& f, const auto& d) { return writeName(f, d, "Tanaka"); }).isOk());
    PullPage page;
    page.purge = {gone};
    page.enter = {"p-joined"};
    page.next = 5;
    auto applied = r->applyPulled(page);
    QVERIFY2(applied.isOk(), applied.status().toString().c_str());
    QVERIFY(r->patients() == std::vector<std::string>{kept});
    QVERIFY(r->document(gone).status().code() == crdt::Status::Code::kNotFound);
    QVERIFY(r->pendingEntries().size() == 1 && r->pendingEntries()[0].first == "p-joined");
    QVERIFY(rawScalar(path, "SELECT COUNT(*) FROM ops WHERE patient = '" + gone + "'") == "0");
    QVERIFY(rawScalar(path, "SELECT COUNT(*) FROM ops WHERE patient = '" + kept + "'") == "1");
    QVERIFY(rawScalar(path, "SELECT wrapped_key FROM patients WHERE id = '" + gone + "'").empty());
    QVERIFY(r->purgePatient(kept).isOk());
    QVERIFY(r->patients().empty());
  }

  // Charts' change marks (what the sync's cache of attachment wants keys
  // on): a change to a chart changes its mark, a read does not; a patient
  // purged and back has a new one even with as many changes as before.
  void chartMarksFollowChanges() {
    auto r = make(newPath());
    QVERIFY(r);
    const std::string a = Replica::newPatientId();
    const std::string b = Replica::newPatientId();
    QVERIFY(r->chartMarks().empty());
    QVERIFY(r->edit(a, [](auto& f, const auto& d) { return writeName(f, d, "Ibsen"); }).isOk());
    QVERIFY(r->edit(b, [](auto& f, const auto& d) { return writeName(f, d, "Oduya"); }).isOk());
    const auto before = r->chartMarks();
    QCOMPARE(before.size(), std::size_t{2});
    QVERIFY(r->chart(a, "a read").isOk());
    QVERIFY(r->chartMarks() == before);
    QVERIFY(r->edit(a, [](auto& f, const auto& d) { return writeName(f, d, "Ibsen-Dahl"); }).isOk());
    auto after = r->chartMarks();
    QVERIFY(after.at(a) != before.at(a));
    QCOMPARE(after.at(b), before.at(b));
    QVERIFY(r->purgePatient(b).isOk());
    QCOMPARE(r->chartMarks().count(b), std::size_t{0});
    QVERIFY(r->edit(b, [](auto& f, const auto& d) { return writeName(f, d, "Oduya"); }).isOk());
    QCOMPARE(r->chartMarks().size(), std::size_t{2});
    QVERIFY(r->chartMarks().at(b) != before.at(b));  // the same number of changes, a new key
  }

  // A patient whose break-glass copy is on the tablet moves into the
  // tablet's clinic: the copy becomes the chart (editable, never purged as
  // expired).
  void breakGlassCopyOfAPatientWhoJoinsBecomesTheChart() {
    ManualClock manual;
    manual.now = static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch());
    ReplicaOptions options;
    options.clock = &manual;
    const std::string path = newPath();
    auto r = make(path, 3101, options);
    auto other = make(newPath(), 3102);
    QVERIFY(r && other);
    const std::string theirs = Replica::newPatientId();
    QVERIFY(other->edit(theirs, [](auto& f, const auto& d) { return writeName(f, d, "Haddad"); }).isOk());
    BreakGlassCopy copy;
    copy.patient = theirs;
    copy.clinic = "north";
    copy.reason = "brought in by a neighbour";
    copy.expiresAtMs = static_cast<std::int64_t>(manual.now) + 60'000;
    const auto outbox = other->outbox(100);
    QVERIFY(outbox.isOk());
    for (const auto& op : outbox.value()) copy.ops.push_back(crdt::encodeOp(op));
    QVERIFY(r->storeBreakGlass(copy).isOk());
    const std::string oldRow = rawScalar(path, "SELECT hex(sealed) FROM break_glass WHERE patient = '" + theirs + "'");
    QVERIFY(!oldRow.empty());
    QVERIFY(!r->edit(theirs, [](auto& f, const auto& d) { return writeName(f, d, "Haddad-Khoury"); }).isOk());
    PullPage page;
    page.enter = {theirs};
    page.next = r->cursor();
    QVERIFY(r->applyPulled(page).isOk());
    QVERIFY(!r->isBreakGlass(theirs));
    QVERIFY(r->edit(theirs, [](auto& f, const auto& d) { return writeName(f, d, "Haddad-Khoury"); }).isOk());
    manual.now += 120'000;
    const auto purged = r->purgeExpiredBreakGlass();
    QVERIFY(purged.isOk());
    QCOMPARE(purged.value(), std::size_t{0});
    QCOMPARE(r->summary(theirs).value().familyName, std::string("Haddad-Khoury"));
    // Its old break-glass row put back (now expired) must not purge the
    // chart, with an edit of this clinic in it: refused, audited once.
    rawExec(path, "INSERT INTO break_glass (patient, expires_at, sealed) VALUES ('" + theirs + "', " +
                      std::to_string(copy.expiresAtMs) + ", X'" + oldRow + "')");
    QVERIFY(r->isBreakGlass(theirs));  // read-only meanwhile: the safe side
    for (int i = 0; i < 2; ++i) QCOMPARE(r->purgeExpiredBreakGlass().value(), std::size_t{0});
    QCOMPARE(r->summary(theirs).value().familyName, std::string("Haddad-Khoury"));
    QVERIFY(r->breakGlassCopies().empty());
    int audited = 0;
    const auto events = r->pendingAudit(1000);
    QVERIFY(events.isOk());
    for (const auto& e : events.value()) {
      audited += e.action == "replica.tamper_detected" && e.patient == theirs &&
                 e.detail.find("\"table\":\"break_glass\"") != std::string::npos;
    }
    QCOMPARE(audited, 2);  // the purge once, the list once
  }

  // A chart of another clinic fetched by break-glass: stored, read-only,
  // left out of the charts in scope and of an epoch's re-push, audited with
  // its reason, and destroyed (key and rows) when its time is up.
  void breakGlassCopiesAreReadOnlyAndExpire() {
    ManualClock manual;
    manual.now = static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch());
    ManualClock* clock = &manual;
    ReplicaOptions options;
    options.clock = clock;
    const std::string path = newPath();
    auto r = make(path, 3001, options);
    auto other = make(newPath(), 3002);
    QVERIFY(r && other);
    const std::string mine = Replica::newPatientId();
    QVERIFY(r->edit(mine, [](auto& f, const auto& d) { return writeName(f, d, "Okafor"); }).isOk());
    const std::string hashBefore = r->stateHash().value();
    const std::string theirs = Replica::newPatientId();
    QVERIFY(other->edit(theirs, [](auto& f, const auto& d) { return writeName(f, d, "Lindqvist"); }).isOk());
    QVERIFY(other
                ->edit(theirs,
                       [](auto& f, const auto& d) {
                         return f.writeField(d, FieldRef{Collection::kDemographics, {}, crdt::field::kBirthDate},
                                             Value{"1950-02-03"});
                       })
                .isOk());
    BreakGlassCopy copy;
    copy.patient = theirs;
    copy.clinic = "north";
    copy.reason = "found unconscious at the bus stop";
    copy.expiresAtMs = static_cast<std::int64_t>(clock->now) + 3'600'000;
    const auto list1 = other->outbox(100);
    QVERIFY(list1.isOk());
    for (const auto& op : list1.value()) copy.ops.push_back(crdt::encodeOp(op));
    QCOMPARE(copy.ops.size(), std::size_t{2});
    QVERIFY2(r->storeBreakGlass(copy).isOk(), "a break-glass copy is stored");
    QVERIFY(r->isBreakGlass(theirs) && !r->isBreakGlass(mine));
    QCOMPARE(r->summary(theirs).value().familyName, std::string("Lindqvist"));
    QVERIFY(r->chart(theirs, "break-glass").isOk());
    const auto copies = r->breakGlassCopies();
    QCOMPARE(copies.size(), std::size_t{1});
    QCOMPARE(copies[0].reason, copy.reason);
    QCOMPARE(copies[0].clinic, std::string("north"));
    QCOMPARE(copies[0].user, std::string("nurse"));
    QCOMPARE(copies[0].expiresAtMs, copy.expiresAtMs);
    // Read-only: no edit, single or batch; nothing enters the outbox.
    const std::uint64_t pending = r->pendingOpCount();
    auto refused = r->edit(theirs, [](auto& f, const auto& d) { return writeName(f, d, "Changed"); });
    QVERIFY(refused.status().code() == crdt::Status::Code::kRejected);
    QVERIFY(r->editBatch(theirs, {[](auto& f, const auto& d) { return writeName(f, d, "Changed"); }}).status().code() ==
            crdt::Status::Code::kRejected);
    QCOMPARE(r->pendingOpCount(), pending);
    // Not one of the charts in scope, and not pushed again after a restore.
    QCOMPARE(r->stateHash().value(), hashBefore);
    QVERIFY(r->startNewEpoch("epoch-2").isOk());
    const auto list2 = r->outbox(100);
    QVERIFY(list2.isOk());
    for (const auto& op : list2.value()) QVERIFY(op.patient != theirs);
    // The audit event carries the reason.
    bool audited = false;
    const auto list3 = r->pendingAudit(1000);
    QVERIFY(list3.isOk());
    for (const auto& e : list3.value()) {
      audited |=
          e.action == "chart.break_glass" && e.patient == theirs && e.detail.find("bus stop") != std::string::npos;
    }
    QVERIFY(audited);
    // A patient in scope is not replaced by a copy.
    BreakGlassCopy clash = copy;
    clash.patient = mine;
    clash.ops = {crdt::encodeOp(r->outbox(100).value().front())};
    QVERIFY(r->storeBreakGlass(clash).code() == crdt::Status::Code::kAlreadyExists);
    // Ops of another patient in the answer are refused whole.
    BreakGlassCopy mixed = copy;
    mixed.patient = Replica::newPatientId();
    QVERIFY(r->storeBreakGlass(mixed).code() == crdt::Status::Code::kCorruption);
    QVERIFY(!r->isBreakGlass(mixed.patient));
    // Before its time nothing goes; after it, key and rows are gone.
    QCOMPARE(r->purgeExpiredBreakGlass().value(), std::size_t{0});
    clock->now += 3'600'001;
    QCOMPARE(r->purgeExpiredBreakGlass().value(), std::size_t{1});
    QVERIFY(!r->isBreakGlass(theirs));
    QVERIFY(r->document(theirs).status().code() == crdt::Status::Code::kNotFound);
    QVERIFY(rawScalar(path, "SELECT COUNT(*) FROM ops WHERE patient = '" + theirs + "'") == "0");
    QVERIFY(rawScalar(path, "SELECT COUNT(*) FROM break_glass") == "0");
    QVERIFY(r->breakGlassCopies().empty());
    bool expiredAudited = false;
    const auto list4 = r->pendingAudit(1000);
    QVERIFY(list4.isOk());
    for (const auto& e : list4.value()) {
      expiredAudited |= e.action == "replica.break_glass_expired" && e.patient == theirs;
    }
    QVERIFY(expiredAudited);
    // An answer that has already expired is not stored.
    copy.expiresAtMs = static_cast<std::int64_t>(clock->now) - 1;
    QVERIFY(r->storeBreakGlass(copy).code() == crdt::Status::Code::kInvalidArgument);
  }

  void readsAreAuditedAlsoOffline() {
    auto r = make(newPath());
    QVERIFY(r);
    const std::string patient = Replica::newPatientId();
    QVERIFY(r->edit(patient, [](auto& f, const auto& d) { return writeName(f, d, "Silva"); }).isOk());
    const std::uint64_t before = r->pendingAuditCount();
    QVERIFY(r->chart(patient, "home visit").isOk());
    QVERIFY(r->chart(patient).isOk());
    QVERIFY(r->recordAudit("chart.break_glass", patient, "{\"reason\":\"emergency\"}").isOk());
    QCOMPARE(r->pendingAuditCount(), before + 3);
    auto events = r->pendingAudit(100);
    QVERIFY(events.isOk());
    const auto& e = events.value();
    QVERIFY(e.size() == before + 3);
    QVERIFY(e[e.size() - 3].action == "chart.read" && e[e.size() - 3].patient == patient);
    QVERIFY(e[e.size() - 3].detail.find("home visit") != std::string::npos);
    QVERIFY(e.back().action == "chart.break_glass" && e.back().user == "nurse");
    for (std::size_t i = 1; i < e.size(); ++i) QCOMPARE(e[i].seq, e[i - 1].seq + 1);
    QVERIFY(r->acknowledgeAudit(e[e.size() - 2].seq).isOk());
    QCOMPARE(r->pendingAuditCount(), std::uint64_t{1});
    // A failed unlock is recorded too (while locked: no patient data in it).
    r->lock();
    QVERIFY(!r->unlock(m_vault, "nurse", "wrong passphrase!").isOk());
    QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
    bool sawFailure = false;
    const auto afterUnlock = r->pendingAudit(100).value();
    for (const auto& ev : afterUnlock) sawFailure |= ev.action == "replica.unlock_failed";
    QVERIFY(sawFailure);
  }

  // Bits flipped in a stored op, ops swapped between patients, an old
  // summary put back: each is refused with kCorruption and never shown.
  void tamperedRowsAreRefused() {
    const std::string path = newPath();
    std::string p1 = "p-aaaa", p2 = "p-bbbb";
    {
      auto r = make(path);
      QVERIFY(r);
      QVERIFY(r->edit(p1, [](auto& f, const auto& d) { return writeName(f, d, "Novak"); }).isOk());
      QVERIFY(r->edit(p2, [](auto& f, const auto& d) { return writeName(f, d, "Lindqvist"); }).isOk());
    }
    // 1. A flipped bit in p1's op.
    const std::string backup = path + ".orig";
    QVERIFY(QFile::copy(QString::fromStdString(path), QString::fromStdString(backup)));
    rawExec(path, "UPDATE ops SET sealed = substr(sealed, 1, 30) || X'FF' || substr(sealed, 32) WHERE patient = 'p-aaaa'");
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      auto doc = r->chart(p1);
      QVERIFY(doc.status().code() == crdt::Status::Code::kCorruption);
      QVERIFY(r->chart(p2).isOk());  // the other patient is untouched
      bool audited = false;
      const auto events = r->pendingAudit(1000).value();
      for (const auto& ev : events) audited |= ev.action == "replica.tamper_detected";
      QVERIFY(audited);
    }
    // 2. p2's op row moved onto p1 (ciphertext swapped between patients).
    rawExec(path, "UPDATE ops SET sealed = (SELECT sealed FROM ops WHERE patient = 'p-bbbb') WHERE patient = 'p-aaaa'");
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QVERIFY(r->chart(p1).status().code() == crdt::Status::Code::kCorruption);
    }
    // 3. An old summary put back after a newer edit.
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QVERIFY(r->summary(p2).isOk());
    }
    const std::string oldSummary = rawScalar(path, "SELECT hex(summary) FROM patients WHERE id = 'p-bbbb'");
    const std::string oldVersion = rawScalar(path, "SELECT summary_version FROM patients WHERE id = 'p-bbbb'");
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QVERIFY(r->edit(p2, [](auto& f, const auto& d) { return writeName(f, d, "Lindqvist-Berg"); }).isOk());
      QVERIFY(r->summary(p2).value().familyName == "Lindqvist-Berg");
    }
    rawExec(path, "UPDATE patients SET summary = X'" + oldSummary + "', summary_version = " + oldVersion +
                      " WHERE id = 'p-bbbb'");
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QVERIFY(r->summary(p2).status().code() == crdt::Status::Code::kCorruption);
      // 4. A wrapped patient key moved onto another patient.
    }
    rawExec(path, "UPDATE patients SET wrapped_key = (SELECT wrapped_key FROM patients WHERE id = 'p-aaaa') "
                  "WHERE id = 'p-bbbb'");
    {
      auto r = Replica::open(path).value();
      QVERIFY(r->unlock(m_vault, "nurse", "correct horse battery").isOk());
      QVERIFY(r->document(p2).status().code() == crdt::Status::Code::kCorruption);
    }
    // 5. A truncated file.
    {
      std::string bytes = fileBytes(backup);
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << bytes.substr(0, 100);
    }
    QFile::remove(QString::fromStdString(path + "-wal"));
    QFile::remove(QString::fromStdString(path + "-shm"));
    QVERIFY(!Replica::open(path).isOk());
  }

  // The benchmark's unencrypted store is recorded in the file: an encrypted
  // replica never opens as one, nor the other way round.
  void anUnencryptedBenchmarkStoreIsNeverMistakenForARealOne() {
    const std::string plain = newPath();
    ReplicaOptions unencrypted;
    unencrypted.unencryptedForBenchmark = true;
    {
      auto r = make(plain, 3001, unencrypted);
      QVERIFY(r);
      QVERIFY(r->edit("p-plain", [](auto& f, const auto& d) { return writeName(f, d, "CANARYPLAIN"); }).isOk());
      QVERIFY(r->document("p-plain").isOk());
    }
    QVERIFY(Replica::open(plain).status().code() == crdt::Status::Code::kInvalidArgument);
    QVERIFY(Replica::open(plain, unencrypted).isOk());
    // In that store the name is in the clear: the canary scan would see it.
    QVERIFY(fileBytes(plain).find("CANARYPLAIN") != std::string::npos ||
            fileBytes(plain + "-wal").find("CANARYPLAIN") != std::string::npos);
    const std::string sealed = newPath();
    QVERIFY(make(sealed, 3002));
    QVERIFY(Replica::open(sealed, unencrypted).status().code() == crdt::Status::Code::kInvalidArgument);
  }

  void eraseEverythingLeavesNothing() {
    const std::string path = newPath();
    auto r = make(path);
    QVERIFY(r);
    RandomEditor editor(*r, 3, 2);
    for (int i = 0; i < 20; ++i) QVERIFY(editor.editOnce().isOk());
    Status erased = r->eraseEverything();
    QVERIFY2(erased.isOk(), erased.toString().c_str());
    QVERIFY(!r->isUnlocked());
    QVERIFY(r->patients().empty());
    QVERIFY(r->users().empty());
    r.reset();
    QVERIFY(Replica::destroy(path).isOk());
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
    QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
  }
};

QTEST_GUILESS_MAIN(ReplicaTest)
#include "replica_test.moc"
