// kill -9 during a stream of pushes: charta-server runs as a child process on
// SQLite (or on PostgreSQL when built with CHARTA_PROCESS_TEST_POSTGRES), four
// tablets push batches of 50 ops from their own threads, and the server is
// SIGKILLed at a random moment (fixed seed) and restarted on the same store,
// round after round (CHARTA_CRASH_ROUNDS, default 5). Tablets retry their
// unacknowledged batch after each restart. At the end every acknowledged op
// must be in the store exactly once with the seq it was acknowledged with, and
// the store itself must be sound (SQLite integrity check, audit chain).

#include <QtTest>

#include <random>

#include "db.h"
#include "process/process_harness.h"

using namespace charta;
using namespace charta::test;
using namespace charta::test::process;

namespace {

#ifdef CHARTA_PROCESS_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

constexpr int kTablets = 4;
constexpr std::uint32_t kSeed = 20240611;

}  // namespace

class Kill9Test : public QObject {
  Q_OBJECT

 private slots:
  void acknowledgedOpsSurviveKill9() {
    const std::string bin = serverBinary();
    QVERIFY2(!bin.empty(), "CHARTA_SERVER_BIN is not set");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();
    std::vector<std::string> store = {"--data", root + "/data"};
    std::string error;
    if (kPostgres) {
      std::string conninfo = newPostgresDatabase(&error);
      QVERIFY2(!conninfo.empty(), error.c_str());
      store.push_back("--postgres");
      store.push_back(conninfo);
    }
    std::vector<std::string> args = {"serve", "--demo", "--log-level", "warn"};
    args.insert(args.end(), store.begin(), store.end());
    ServerUnderTest server(bin, root, "server", args);
    QVERIFY2(server.launch(&error), error.c_str());

    std::vector<Credentials> creds(kTablets);
    for (int i = 0; i < kTablets; ++i) {
      QVERIFY2(enrolTablet(server.url(), "kill9-tablet-" + std::to_string(i), &creds[static_cast<std::size_t>(i)],
                           &error),
               error.c_str());
    }
    Fleet fleet({server.url()});
    for (int i = 0; i < kTablets; ++i) {
      fleet.add(std::make_unique<StreamTablet>(i, creds[static_cast<std::size_t>(i)],
                                               "kill9-patient-" + std::to_string(i)));
    }
    const auto started = Clock::now();
    fleet.start();

    const int rounds = envInt("CHARTA_CRASH_ROUNDS", 5);
    std::mt19937 rng(kSeed);
    std::uniform_int_distribution<int> delayMs(200, 1500);
    std::int64_t restartMsTotal = 0;
    for (int round = 1; round <= rounds; ++round) {
      // The stream is flowing on this server: every tablet got an answer.
      if (!fleet.waitForProgress(180000)) {
        fleet.stopAndJoin();
        QFAIL(("round " + std::to_string(round) + ": the tablets stopped making progress\n" +
               joined(fleetProblems(fleet)) + server.proc().output())
                  .c_str());
      }
      const int delay = delayMs(rng);
      sleepMs(delay);
      const std::int64_t ackedBefore = fleet.ackedTotal();
      QVERIFY2(server.proc().killHard(&error), error.c_str());
      const auto down = Clock::now();
      if (!server.launch(&error)) {
        fleet.stopAndJoin();
        QFAIL(("round " + std::to_string(round) + ": the server does not start again after kill -9\n" + error).c_str());
      }
      restartMsTotal += msSince(down);
      fleet.setUrl(0, server.url());
      fleet.nextGeneration();
      qInfo().noquote() << QStringLiteral("round %1: SIGKILL after %2 ms, %3 ops acknowledged so far, back in %4 ms")
                               .arg(round)
                               .arg(delay)
                               .arg(ackedBefore)
                               .arg(msSince(down));
    }
    if (!fleet.waitForProgress(180000)) {
      fleet.stopAndJoin();
      QFAIL(("after the last restart the tablets made no progress\n" + joined(fleetProblems(fleet))).c_str());
    }
    fleet.stopAndJoin();
    const std::int64_t streamMs = msSince(started);
    const std::vector<std::string> problems = fleetProblems(fleet);
    QVERIFY2(problems.empty(), joined(problems).c_str());

    int retried = 0, rechecked = 0, transport = 0;
    std::int64_t retriedStored = 0;
    for (const auto& t : fleet.tablets()) {
      retried += t->retriedBatches();
      retriedStored += t->retriedAlreadyStored();
      rechecked += t->recheckedBatches();
      transport += t->transportFailures();
      for (const auto& [status, n] : t->httpFailures()) {
        qInfo().noquote() << QStringLiteral("tablet answers %1: %2").arg(status).arg(n);
      }
    }
    // Each tablet pushed its last acknowledged batch again once after each restart.
    QCOMPARE(rechecked, rounds * kTablets);

    Credentials reader;
    QVERIFY2(enrolTablet(server.url(), "kill9-auditor", &reader, &error), error.c_str());
    const std::string url = server.url();
    Audit audit = auditStore(url, reader, fleet.tablets(), [&](int) { return url; });
    qInfo().noquote() << QStringLiteral(
                             "kill -9 (%1): rounds %2, acknowledged ops %3, lost %4, duplicated %5, unknown %6, "
                             "seq mismatches %7; batches retried after a crash %8 (ops already stored %9), "
                             "acknowledged batches re-pushed after restart %10, failed connections %11; "
                             "stream %12 ms, restarts %13 ms in all")
                             .arg(QLatin1String(kPostgres ? "postgres" : "sqlite"))
                             .arg(rounds)
                             .arg(audit.acknowledged)
                             .arg(audit.lost)
                             .arg(audit.duplicated)
                             .arg(audit.unknown)
                             .arg(audit.seqMismatch)
                             .arg(retried)
                             .arg(retriedStored)
                             .arg(rechecked)
                             .arg(transport)
                             .arg(streamMs)
                             .arg(restartMsTotal);
    QVERIFY2(audit.clean(), audit.summary().c_str());
    QVERIFY(audit.acknowledged > 0);
    QCOMPARE(audit.pulled, audit.acknowledged);

    // One more crash, then look at the store itself.
    QVERIFY2(server.proc().killHard(&error), error.c_str());
    if (!kPostgres) {
      auto db = charta::server::Database::openSqlite(root + "/data/charta.db", 1);
      QVERIFY2(db.isOk(), db.status().toString().c_str());
      std::string result;
      {
        auto lease = db.value()->acquire();
        QVERIFY2(lease.isOk(), lease.status().toString().c_str());
        auto rows = lease.value()->query("PRAGMA integrity_check");
        QVERIFY2(rows.isOk(), rows.status().toString().c_str());
        for (const charta::server::DbRow& r : rows.value()) result += charta::server::dbText(r.at(0)) + "\n";
      }
      QVERIFY2(result == "ok\n", result.c_str());
      qInfo().noquote() << "PRAGMA integrity_check: ok";
    }
    std::vector<std::string> verifyArgs = {"audit", "verify"};
    verifyArgs.insert(verifyArgs.end(), store.begin(), store.end());
    ServerProcess verify;
    QVERIFY2(verify.spawn(bin, verifyArgs, root + "/audit-verify.log", &error), error.c_str());
    int status = 0;
    QVERIFY2(verify.waitExit(120000, &status), "audit verify did not finish within 120 s");
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             (describeWaitStatus(status) + ": " + verify.output()).c_str());
    QVERIFY2(verify.output().find("audit chain intact") != std::string::npos, verify.output().c_str());
    qInfo().noquote() << QString::fromStdString(verify.output()).trimmed();
  }
};

QTEST_GUILESS_MAIN(Kill9Test)
#include "kill9_test.moc"
