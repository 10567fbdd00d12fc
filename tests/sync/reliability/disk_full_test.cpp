// Full disk on the tablet. A FaultVfs (tests/support/fault_vfs.h) gives the
// replica's files a byte budget: a write past it fails with SQLITE_FULL, as
// on a tablet whose storage is full. An edit on a full disk fails with a
// message a nurse understands and leaves nothing half-written (not in the
// chart, not in the outbox), every earlier edit stays, and the charts can
// still be read; a sync on a full disk (an acknowledgement or a pulled page
// with no room) fails clearly too. Once space returns, edits save and sync,
// and the server holds each op once.
#include <QElapsedTimer>
#include <optional>
#include <set>

#include "reliability_harness.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;

namespace {

constexpr const char* kStorageFull = "the tablet's storage is full";

bool saysStorageFull(const std::string& message) { return message.find(kStorageFull) != std::string::npos; }

}  // namespace

class DiskFullTest : public QObject {
  Q_OBJECT

  ReliabilityBench m_bench;
  QTemporaryDir m_dir;
  std::unique_ptr<FaultVfs> m_vfs;
  int m_tablets = 0;

  std::unique_ptr<Tablet> enrol() {
    return m_bench.enrol(m_dir.path().toStdString() + "/tablet-" + std::to_string(++m_tablets) + ".db");
  }

  // Edits until one fails (at most `limit`); the ones saved are appended.
  static std::optional<Status> editUntilFull(RandomEditor& editor, int limit, std::vector<SavedOp>* saved) {
    for (int i = 0; i < limit; ++i) {
      auto op = editor.editOnce();
      if (!op.isOk()) return op.status();
      saved->push_back(savedOp(op.value()));
    }
    return std::nullopt;
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_bench.start(), m_bench.server.error.c_str());
    m_vfs = std::make_unique<FaultVfs>();
    m_vfs->watch(m_dir.path().toStdString());
  }

  void cleanup() { m_vfs->setUnlimitedSpace(); }
  void cleanupTestCase() { m_vfs.reset(); }

  // The shim itself: growth past the budget is refused with SQLITE_FULL and
  // the database keeps what it had; with room again the write goes through.
  void theShimRefusesGrowthPastItsBudget() {
    const std::string path = m_dir.path().toStdString() + "/shim.db";
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK);
    auto exec = [db](const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); };
    QCOMPARE(exec("PRAGMA journal_mode=WAL; CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(100))"),
             SQLITE_OK);
    m_vfs->setSpaceLeft(16 * 1024);
    const std::uint64_t before = m_vfs->fullErrors();
    QCOMPARE(exec("INSERT INTO t VALUES (randomblob(200000))"), SQLITE_FULL);
    QVERIFY(m_vfs->fullErrors() > before);
    sqlite3_stmt* st = nullptr;
    QCOMPARE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM t", -1, &st, nullptr), SQLITE_OK);
    QCOMPARE(sqlite3_step(st), SQLITE_ROW);
    QCOMPARE(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    m_vfs->setUnlimitedSpace();
    QCOMPARE(exec("INSERT INTO t VALUES (randomblob(200000))"), SQLITE_OK);
    sqlite3_close(db);
    QCOMPARE(integrityCheck(path), std::string("ok"));
  }

  void anEditOnAFullDiskFailsCleanly() {
    QElapsedTimer timer;
    timer.start();
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 5, 2);
    std::vector<SavedOp> saved;
    QVERIFY(!editUntilFull(editor, 6, &saved));
    QVERIFY(t->engine->syncOnce().ok);
    const std::size_t syncedBefore = saved.size();

    m_vfs->setSpaceLeft(96 * 1024);
    const std::optional<Status> failure = editUntilFull(editor, 5000, &saved);
    QVERIFY2(failure, "the disk never filled up");
    QVERIFY2(saysStorageFull(failure->message()), failure->toString().c_str());
    QVERIFY(failure->code() != Status::Code::kOk);
    const std::size_t savedOnFullDisk = saved.size() - syncedBefore;
    QVERIFY(savedOnFullDisk > 0);

    // Nothing half-written: the failed edit's op (the next id) is in no
    // chart; the outbox holds exactly the edits saved since the last sync.
    const crdt::ReplicaId me = t->replica->identity().replica;
    const crdt::OpId failedId{me, saved.back().id.seq + 1};
    for (const auto& p : t->replica->patients()) {
      auto doc = t->replica->document(p);
      QVERIFY2(doc.isOk(), doc.status().toString().c_str());  // reads still work
      QVERIFY(!doc.value()->hasApplied(failedId) && !doc.value()->rejected().contains(failedId));
      QVERIFY(t->replica->summary(p).isOk());
    }
    for (const SavedOp& op : saved) {
      auto doc = t->replica->document(op.patient);
      QVERIFY(doc.isOk() && doc.value()->hasApplied(op.id));
    }
    QCOMPARE(t->replica->pendingOpCount(), static_cast<std::uint64_t>(savedOnFullDisk));
    auto outbox = t->replica->outbox(100000);
    QVERIFY(outbox.isOk());
    QCOMPARE(outbox.value().size(), savedOnFullDisk);
    for (std::size_t i = 0; i < savedOnFullDisk; ++i) {
      QVERIFY(crdt::encodeOp(outbox.value()[i]) == saved[syncedBefore + i].encoded);
    }
    // A chart read for a person is audited, and the audit event needs room
    // too ("no read without its audit event"): with not a byte left it is
    // either shown or refused with the same clear reason; a refresh of a
    // chart already open (not audited again) always works.
    m_vfs->setSpaceLeft(0);
    auto chart = t->replica->chart(saved.back().patient, "view");
    const bool chartShown = chart.isOk();
    if (!chartShown) QVERIFY2(saysStorageFull(chart.status().message()), chart.status().toString().c_str());
    auto refresh = t->replica->chartCopy(saved.back().patient, "");
    QVERIFY2(refresh.isOk(), refresh.status().toString().c_str());
    QVERIFY(refresh.value().hasApplied(saved.back().id));
    // A second try on the still full disk fails the same way.
    auto again = editor.editOnce();
    QVERIFY(!again.isOk() && saysStorageFull(again.status().message()));

    // Space returns: new edits save and sync; the server has each op once.
    m_vfs->setUnlimitedSpace();
    QVERIFY(!editUntilFull(editor, 5, &saved));
    const SyncReport r = t->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    QCOMPARE(t->replica->pendingOpCount(), std::uint64_t{0});
    // The refused edits used up their op ids (never reused, as for an edit
    // the chart refuses): a gap on the server, and nothing stored in it.
    const std::string problem = m_bench.checkServer(*t, saved, true);
    QVERIFY2(problem.empty(), problem.c_str());
    const auto onServer = serverOpsOf(m_bench.server.config.data, me);
    QVERIFY(!onServer.contains(failedId.seq) && !onServer.contains(failedId.seq + 1));
    // Besides the saved edits, only the two patients the editor created (five
    // ops each: names, birth date, sex, identifier).
    QCOMPARE(onServer.size(), saved.size() + 10);
    // And after a restart everything is still there.
    t->close();
    QVERIFY(m_bench.reopen(*t).isOk());
    for (const SavedOp& op : saved) QVERIFY(t->replica->document(op.patient).value()->hasApplied(op.id));
    QCOMPARE(integrityCheck(t->path), std::string("ok"));
    qInfo(
        "full disk, edits: %zu edits saved on the last 96 KiB, the next refused (\"%s\"), audited chart read with no "
        "room %s, "
        "%zu ops on the server once each; %lld ms",
        savedOnFullDisk, failure->message().c_str(), chartShown ? "shown" : "refused (storage full)", saved.size(),
        static_cast<long long>(timer.elapsed()));
  }

  void aSyncOnAFullDiskFailsClearlyAndResumes() {
    QElapsedTimer timer;
    timer.start();
    auto a = enrol();
    auto b = enrol();
    QVERIFY(a && b);
    // Another tablet charts a lot; this one has a few edits to push.
    RandomEditor eb(*b->replica, 8, 3);
    std::vector<SavedOp> savedB;
    QVERIFY(!editUntilFull(eb, 300, &savedB));
    QVERIFY(b->engine->syncOnce().ok);
    RandomEditor ea(*a->replica, 9, 1);
    std::vector<SavedOp> savedA;
    QVERIFY(!editUntilFull(ea, 3, &savedA));

    // No room at all: the server takes the push, but the tablet cannot note
    // the acknowledgement nor store the pulled pages.
    const std::uint64_t cursorBefore = a->replica->cursor();
    m_vfs->setSpaceLeft(0);
    const SyncReport full = a->engine->syncOnce();
    QVERIFY(!full.ok);
    QVERIFY2(saysStorageFull(full.message), full.message.c_str());
    QVERIFY2(saysStorageFull(a->engine->status().lastError), a->engine->status().lastError.c_str());
    QCOMPARE(a->replica->cursor(), cursorBefore);
    for (const SavedOp& op : savedA) QVERIFY(a->replica->document(op.patient).value()->hasApplied(op.id));

    // Room for the acknowledgement but not for the pages: the pull fails.
    std::size_t pullFailures = 0;
    std::string pullMessage;
    for (int attempt = 0; attempt < 3; ++attempt) {
      m_vfs->setSpaceLeft(32 * 1024);
      const SyncReport r = a->engine->syncOnce();
      if (r.ok) break;
      QVERIFY2(saysStorageFull(r.message), r.message.c_str());
      ++pullFailures;
      pullMessage = r.message;
    }
    QVERIFY(pullFailures > 0);
    QVERIFY2(pullMessage.find("page") != std::string::npos, pullMessage.c_str());
    QCOMPARE(a->replica->pendingOpCount(), std::uint64_t{0});  // the acknowledgement got its room
    QVERIFY(!a->replica->patients().empty());                  // still readable

    // Space returns: the sync completes and both tablets hold the same charts.
    m_vfs->setUnlimitedSpace();
    const SyncReport ok = a->engine->syncOnce();
    QVERIFY2(ok.ok, ok.message.c_str());
    QVERIFY(a->engine->status().lastError.empty());
    QVERIFY(b->engine->syncOnce().ok);
    QCOMPARE(a->replica->pendingOpCount(), std::uint64_t{0});
    QVERIFY(a->replica->stateHash().value() == b->replica->stateHash().value());
    for (auto [tablet, saved] : {std::pair{a.get(), &savedA}, std::pair{b.get(), &savedB}}) {
      const std::string problem = m_bench.checkServer(*tablet, *saved);
      QVERIFY2(problem.empty(), problem.c_str());
    }
    QCOMPARE(integrityCheck(a->path), std::string("ok"));
    qInfo(
        "full disk, sync: a sync with no room refused (\"%s\"), %zu failed pulls (\"%s\"), then %zu ops pulled once "
        "space returned; every op on the server once; %lld ms",
        full.message.c_str(), pullFailures, pullMessage.c_str(), ok.pulled, static_cast<long long>(timer.elapsed()));
  }
};

QTEST_GUILESS_MAIN(DiskFullTest)
#include "disk_full_test.moc"
