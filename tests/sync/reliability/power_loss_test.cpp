// Power loss on the tablet. A FaultVfs (tests/support/fault_vfs.h) stands in
// for the tablet's storage and cuts the power after the N-th write the
// replica makes during a sequence of edits and syncs against an in-process
// charta-server; the files are then left exactly as a power cut would leave
// them (every write since the file's last sync lost). After each cut the
// replica is opened as after a reboot: every edit the library reported as
// saved is there and decrypts, PRAGMA integrity_check is ok, and once the
// tablet syncs, the server holds every saved edit exactly once.
//
// Each sequence starts from a freshly enrolled tablet (a new device, so that
// the ops of one run never meet those of another on the server), runs once
// without a cut to count its writes W, then once per crash point.
// CHARTA_POWER_LOSS_FULL=1 cuts after every one of the W writes (and every
// write of the checkpoint in the long sequence); by default the points are
// spread evenly (CHARTA_POWER_LOSS_POINTS, 40) and the short CI run takes
// well under a minute.
#include <QElapsedTimer>
#include <QRegularExpression>
#include <algorithm>
#include <functional>
#include <set>

#include "reliability_harness.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;

namespace {

// A sequence: `steps` times `editsPerStep` edits, then a sync.
struct Shape {
  int steps;
  int editsPerStep;
};
constexpr Shape kShort{4, 3};
constexpr Shape kLong{2, 130};  // past SQLite's automatic checkpoint

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct Figures {
  std::size_t sequences = 0;
  std::size_t crashPoints = 0;
  std::size_t editsChecked = 0;
  std::size_t unreportedKept = 0;  // an edit cut short by the crash that was committed anyway
  std::size_t lost = 0;
  std::size_t undecryptable = 0;
  std::size_t integrityFailures = 0;
  std::size_t serverMismatches = 0;
};

}  // namespace

class PowerLossTest : public QObject {
  Q_OBJECT

  ReliabilityBench m_bench;
  QTemporaryDir m_dir;
  std::unique_ptr<FaultVfs> m_vfs;
  int m_runs = 0;
  std::uint64_t m_setupSeq = 0;  // the last op of the starting files

  // Enrols a tablet and gives it two patients, synced: the files every
  // sequence starts from. Nothing of it is counted.
  std::unique_ptr<Tablet> startingTablet() {
    auto t = m_bench.enrol(m_dir.path().toStdString() + "/tablet-" + std::to_string(++m_runs) + ".db");
    if (!t) return nullptr;
    RandomEditor setup(*t->replica, 1, 2);
    for (int i = 0; i < 2; ++i) {
      auto op = setup.editOnce();
      if (!op.isOk()) return nullptr;
      m_setupSeq = op.value().id.seq;
    }
    if (!t->engine->syncOnce().ok) return nullptr;
    return t;
  }

  // The sequence; stops at the power cut. Returns the edits reported as
  // saved.
  static std::vector<SavedOp> runSequence(Tablet& t, FaultVfs& vfs, Shape shape) {
    std::vector<SavedOp> saved;
    RandomEditor editor(*t.replica, 77, 1);
    for (int step = 0; step < shape.steps && !vfs.crashed(); ++step) {
      for (int e = 0; e < shape.editsPerStep && !vfs.crashed(); ++e) {
        auto op = editor.editOnce();
        if (op.isOk()) {
          saved.push_back(savedOp(op.value()));
        } else if (!vfs.crashed()) {
          qWarning() << "edit failed without a power cut:" << op.status().toString().c_str();
          return {};
        }
      }
      if (vfs.crashed()) break;
      const SyncReport r = t.engine->syncOnce();
      if (!r.ok && !vfs.crashed()) qWarning() << "sync failed without a power cut:" << r.message.c_str();
    }
    return saved;
  }

  // After the cut: reboot, reopen, check, one more edit, sync, check the
  // server. Adds to the figures; false stops the test with a message.
  bool verifyAfterCrash(Tablet& t, std::vector<SavedOp> saved, Figures& f, std::string* why) {
    t.close();
    if (!m_vfs->reboot(why)) return false;
    if (Status s = m_bench.reopen(t); !s.isOk()) {
      *why = "reopen: " + s.toString();
      return false;
    }
    std::uint64_t maxSaved = 0;
    for (const SavedOp& op : saved) {
      ++f.editsChecked;
      maxSaved = std::max(maxSaved, op.id.seq);
      auto doc = t.replica->document(op.patient);
      if (!doc.isOk()) {
        ++(doc.status().code() == Status::Code::kCorruption ? f.undecryptable : f.lost);
        qWarning() << "saved op" << op.id.seq << ":" << doc.status().toString().c_str();
      } else if (!doc.value()->hasApplied(op.id)) {
        ++f.lost;
        qWarning() << "saved op" << op.id.seq << "is lost";
      }
    }
    // Every chart opens (nothing stored fails to decrypt).
    for (const auto& p : t.replica->patients()) {
      auto doc = t.replica->chartCopy(p, "check after power loss");
      if (!doc.isOk()) {
        ++f.undecryptable;
        qWarning() << "chart" << p.c_str() << ":" << doc.status().toString().c_str();
      }
    }
    const std::string integrity = integrityCheck(t.path);
    if (integrity != "ok") {
      ++f.integrityFailures;
      qWarning() << "integrity_check:" << integrity.c_str();
    }
    // The nurse carries on: one more edit, then the tablet syncs.
    RandomEditor after(*t.replica, 99, 1);
    auto op = after.editOnce();
    if (!op.isOk()) {
      *why = "edit after the reboot: " + op.status().toString();
      return false;
    }
    saved.push_back(savedOp(op.value()));
    if (op.value().id.seq <= maxSaved) {
      *why = "an op id was issued twice: " + std::to_string(op.value().id.seq);
      return false;
    }
    const SyncReport r = t.engine->syncOnce();
    if (!r.ok) {
      *why = "sync after the reboot: " + r.message;
      return false;
    }
    if (t.replica->pendingOpCount() != 0) {
      *why = "ops left in the outbox after a sync";
      return false;
    }
    if (std::string problem = m_bench.checkServer(t, saved); !problem.empty()) {
      ++f.serverMismatches;
      qWarning() << "server:" << problem.c_str();
    }
    // Ops on the server the library did not report as saved: an edit the cut
    // interrupted after its commit reached the disk.
    std::set<std::uint64_t> reported;
    for (const SavedOp& s : saved) reported.insert(s.id.seq);
    for (const auto& [counter, body] : serverOpsOf(m_bench.server.config.data, t.replica->identity().replica)) {
      if (counter > m_setupSeq && !reported.contains(counter)) ++f.unreportedKept;
    }
    return true;
  }

  // Every write when CHARTA_POWER_LOSS_FULL is set, else
  // CHARTA_POWER_LOSS_POINTS (40) / divisor points spread evenly.
  using Chooser = std::function<std::vector<std::uint64_t>(std::uint64_t, const std::vector<std::uint64_t>&)>;
  static Chooser spreadPoints(int divisor) {
    return [divisor](std::uint64_t total, const std::vector<std::uint64_t>&) {
      const bool full = envInt("CHARTA_POWER_LOSS_FULL", 0) != 0;
      const std::uint64_t wanted =
          full ? total : static_cast<std::uint64_t>(std::max(2, envInt("CHARTA_POWER_LOSS_POINTS", 40) / divisor));
      std::vector<std::uint64_t> points;
      for (std::uint64_t i = 0; i < std::min(wanted, total); ++i) {
        points.push_back(wanted >= total ? i + 1 : 1 + i * (total - 1) / (wanted - 1));
      }
      return points;
    };
  }

  // The writes of the automatic checkpoints: when CHARTA_POWER_LOSS_FULL is
  // set, every write to the database file and the few after each (its sync,
  // the WAL starting over); else ten of them and the one right after the
  // last.
  static Chooser checkpointPoints() {
    return [](std::uint64_t total, const std::vector<std::uint64_t>& mainDb) {
      std::vector<std::uint64_t> points;
      if (mainDb.empty()) return points;
      if (envInt("CHARTA_POWER_LOSS_FULL", 0) != 0) {
        for (const std::uint64_t n : mainDb) {
          for (std::uint64_t k = n; k <= std::min(total, n + 6); ++k) points.push_back(k);
        }
      } else {
        const std::size_t wanted = std::min<std::size_t>(mainDb.size(), 10);
        for (std::size_t i = 0; i < wanted; ++i) {
          points.push_back(mainDb[i * (mainDb.size() - 1) / std::max<std::size_t>(1, wanted - 1)]);
        }
        points.push_back(std::min(total, mainDb.back() + 1));
      }
      std::sort(points.begin(), points.end());
      points.erase(std::unique(points.begin(), points.end()), points.end());
      return points;
    };
  }

  // Dry run of the shape (counting its writes), then one run per crash
  // point that choose(total writes, the main database's writes) picks.
  void runCrashPoints(Shape shape, const Chooser& choose) {
    QElapsedTimer timer;
    timer.start();
    auto dry = startingTablet();
    QVERIFY(dry);
    m_vfs->resetCounters();
    const std::vector<SavedOp> drySaved = runSequence(*dry, *m_vfs, shape);
    QCOMPARE(drySaved.size(), static_cast<std::size_t>(shape.steps * shape.editsPerStep));
    const std::uint64_t total = m_vfs->writes();
    const std::uint64_t totalSyncs = m_vfs->syncs();
    const std::vector<std::uint64_t> mainDb = m_vfs->mainDbWrites();
    QVERIFY(total > 0);
    const std::string dryProblem = m_bench.checkServer(*dry, drySaved);
    QVERIFY2(dryProblem.empty(), dryProblem.c_str());
    dry->close();
    const std::int64_t dryMs = timer.elapsed();
    const std::vector<std::uint64_t> points = choose(total, mainDb);
    QVERIFY2(!points.empty(), "no crash point (no checkpoint in the dry run?)");

    Figures f;
    f.sequences = 1;
    for (const std::uint64_t n : points) {
      auto t = startingTablet();
      QVERIFY(t);
      m_vfs->resetCounters();
      m_vfs->crashAfter(n);
      std::vector<SavedOp> saved = runSequence(*t, *m_vfs, shape);
      ++f.sequences;
      if (!m_vfs->crashed()) m_vfs->crashNow();  // a shorter run than the dry one: cut at its end
      ++f.crashPoints;
      std::string why;
      QVERIFY2(verifyAfterCrash(*t, std::move(saved), f, &why),
               ("crash after write " + std::to_string(n) + ": " + why).c_str());
      const std::string path = t->path;
      t->close();
      QVERIFY(Replica::destroy(path).isOk());
    }
    qInfo(
        "power loss (%d x %d edits, then a sync): %zu sequences run, %zu crash points of %llu writes (%llu syncs, "
        "%zu to the database file), %zu saved edits checked, lost %zu, undecryptable %zu, integrity failures %zu, "
        "server mismatches %zu; %zu edits cut short were kept; dry run %lld ms, total %lld ms",
        shape.steps, shape.editsPerStep, f.sequences, f.crashPoints, static_cast<unsigned long long>(total),
        static_cast<unsigned long long>(totalSyncs), mainDb.size(), f.editsChecked, f.lost, f.undecryptable,
        f.integrityFailures, f.serverMismatches, f.unreportedKept, static_cast<long long>(dryMs),
        static_cast<long long>(timer.elapsed()));
    QCOMPARE(f.lost, std::size_t{0});
    QCOMPARE(f.undecryptable, std::size_t{0});
    QCOMPARE(f.integrityFailures, std::size_t{0});
    QCOMPARE(f.serverMismatches, std::size_t{0});
    QVERIFY(f.editsChecked > 0);
  }

 private slots:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_bench.start(), m_bench.server.error.c_str());
    m_vfs = std::make_unique<FaultVfs>();
    m_vfs->watch(m_dir.path().toStdString());
  }

  void cleanup() { m_vfs->keepUnsyncedChanges(0, 0); }
  void cleanupTestCase() { m_vfs.reset(); }

  // The shim itself: a commit that was never synced is gone after the cut,
  // a synced one stays; and a cut leaves the I/O failing until reboot().
  void unsyncedWritesAreLostSyncedOnesKept() {
    const std::string path = m_dir.path().toStdString() + "/shim.db";
    auto exec = [](sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); };
    auto rows = [&](const char* sql) {
      sqlite3* db = nullptr;
      std::int64_t n = -1;
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
          n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
      }
      sqlite3_close(db);
      return n;
    };
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK);
    QCOMPARE(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (x); INSERT INTO t VALUES (1)"),
             SQLITE_OK);
    m_vfs->resetCounters();
    QCOMPARE(exec(db, "PRAGMA synchronous=OFF; INSERT INTO t VALUES (2)"), SQLITE_OK);
    QVERIFY(m_vfs->writes() > 0);
    QCOMPARE(m_vfs->syncs(), std::uint64_t{0});
    QCOMPARE(exec(db, "SELECT COUNT(*) FROM t"), SQLITE_OK);
    m_vfs->crashNow();
    QVERIFY(exec(db, "INSERT INTO t VALUES (3)") != SQLITE_OK);  // no I/O after the cut
    sqlite3_close(db);
    std::string error;
    QVERIFY2(m_vfs->reboot(&error), error.c_str());
    QCOMPARE(rows("SELECT COUNT(*) FROM t"), std::int64_t{1});  // the unsynced commit is gone
    QCOMPARE(rows("SELECT MAX(x) FROM t"), std::int64_t{1});
    QCOMPARE(integrityCheck(path), std::string("ok"));
    // A synced commit survives a cut right after it.
    QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    m_vfs->resetCounters();
    QCOMPARE(exec(db, "PRAGMA synchronous=FULL; INSERT INTO t VALUES (4)"), SQLITE_OK);
    QVERIFY(m_vfs->syncs() > 0);
    m_vfs->crashNow();
    sqlite3_close(db);
    QVERIFY2(m_vfs->reboot(&error), error.c_str());
    QCOMPARE(rows("SELECT COUNT(*) FROM t"), std::int64_t{2});
    QCOMPARE(rows("SELECT MAX(x) FROM t"), std::int64_t{4});
  }

  // The checks can fail: on a disk whose flushes lie, a power cut after the
  // sequence loses edits the library reported as saved, and they say so.
  void theChecksNoticeALyingDisk() {
    auto t = startingTablet();
    QVERIFY(t);
    m_vfs->resetCounters();
    m_vfs->setSyncsLie(true);
    const std::vector<SavedOp> saved = runSequence(*t, *m_vfs, kShort);
    m_vfs->setSyncsLie(false);
    QCOMPARE(saved.size(), static_cast<std::size_t>(kShort.steps * kShort.editsPerStep));
    m_vfs->crashNow();
    for (std::size_t i = 0; i < saved.size(); ++i) {
      QTest::ignoreMessage(QtWarningMsg, QRegularExpression("^saved op \\d+ is lost$"));
    }
    Figures f;
    std::string why;
    const bool completed = verifyAfterCrash(*t, saved, f, &why);
    QVERIFY(f.lost > 0);
    qInfo("lying disk: %zu of %zu saved edits lost after the cut, and reported%s%s", f.lost, saved.size(),
          completed ? "" : "; then: ", why.c_str());
    t->close();
    QVERIFY(Replica::destroy(t->path).isOk());
  }

  void everySavedEditSurvivesAPowerCut() { runCrashPoints(kShort, spreadPoints(1)); }

  // A harsher disk: at each cut, about half of the writes made since a file's
  // last sync reached it anyway, in any order (also in the middle of a
  // checkpoint).
  void aCutKeepingPartOfTheUnsyncedWritesLosesNothing() {
    m_vfs->keepUnsyncedChanges(0.5, 2024);
    runCrashPoints(kShort, spreadPoints(2));
    if (QTest::currentTestFailed()) return;
    runCrashPoints(kLong, checkpointPoints());
    const std::uint64_t kept = m_vfs->unsyncedChangesKept();
    m_vfs->keepUnsyncedChanges(0, 0);
    qInfo("power loss keeping part of the unsynced writes: %llu of them reached the disk",
          static_cast<unsigned long long>(kept));
    QVERIFY(kept > 0);
  }

  // A sequence long enough for SQLite's automatic checkpoint (1000 WAL
  // pages): cuts while the checkpoint copies pages into the database file,
  // syncs it and starts the WAL over.
  void aPowerCutDuringACheckpointLosesNothing() { runCrashPoints(kLong, checkpointPoints()); }
};

QTEST_GUILESS_MAIN(PowerLossTest)
#include "power_loss_test.moc"
