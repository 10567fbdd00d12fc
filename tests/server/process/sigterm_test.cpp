// SIGTERM during a stream of pushes: charta-server (a child process, SQLite)
// must stop cleanly (exit code 0 within 10 s, "stopped" printed) and, once
// started again on the same store, hold every op it acknowledged, exactly once.

#include <QtTest>

#include "process/process_harness.h"

using namespace charta;
using namespace charta::test;
using namespace charta::test::process;

namespace {

constexpr int kTablets = 4;
constexpr std::int64_t kStopBoundMs = 10000;

}  // namespace

class SigtermTest : public QObject {
  Q_OBJECT

 private slots:
  void sigtermDuringPushesStopsCleanly() {
    const std::string bin = serverBinary();
    QVERIFY2(!bin.empty(), "CHARTA_SERVER_BIN is not set");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();
    ServerUnderTest server(bin, root, "server", {"serve", "--demo", "--log-level", "warn", "--data", root + "/data"});
    std::string error;
    QVERIFY2(server.launch(&error), error.c_str());

    Fleet fleet({server.url()});
    for (int i = 0; i < kTablets; ++i) {
      Credentials c;
      QVERIFY2(enrolTablet(server.url(), "sigterm-tablet-" + std::to_string(i), &c, &error), error.c_str());
      fleet.add(std::make_unique<StreamTablet>(i, c, "sigterm-patient-" + std::to_string(i)));
    }
    fleet.start();
    // Let the stream get going: every tablet acknowledged, then a little more.
    if (!fleet.waitForProgress(180000)) {
      fleet.stopAndJoin();
      QFAIL(("the tablets made no progress\n" + joined(fleetProblems(fleet))).c_str());
    }
    sleepMs(700);

    const std::int64_t ackedBefore = fleet.ackedTotal();
    const auto sent = Clock::now();
    QVERIFY(server.proc().signal(SIGTERM));
    int status = 0;
    // Wait well past the bound so a slow stop is measured, not just reported.
    const bool exited = server.proc().waitExit(60000, &status);
    const std::int64_t stopMs = msSince(sent);
    const std::string output = server.proc().output();
    if (!exited) {
      std::string e;
      (void)server.proc().killHard(&e);
    }
    qInfo().noquote() << QStringLiteral("SIGTERM with %1 ops acknowledged: %2 after %3 ms")
                             .arg(ackedBefore)
                             .arg(exited ? QString::fromStdString(describeWaitStatus(status)) : QStringLiteral("still running"))
                             .arg(stopMs);
    if (!exited) {
      fleet.stopAndJoin();
      QFAIL(("charta-server was still running 60 s after SIGTERM\n" + output).c_str());
    }
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, (describeWaitStatus(status) + "\n" + output).c_str());
    QVERIFY2(stopMs <= kStopBoundMs, ("stopping took " + std::to_string(stopMs) + " ms").c_str());
    QVERIFY2(output.find("stopped") != std::string::npos, output.c_str());

    // Back on the same store: the tablets retry what was not acknowledged.
    if (!server.launch(&error)) {
      fleet.stopAndJoin();
      QFAIL(("the server does not start again after SIGTERM\n" + error).c_str());
    }
    fleet.setUrl(0, server.url());
    fleet.nextGeneration();
    if (!fleet.waitForProgress(180000)) {
      fleet.stopAndJoin();
      QFAIL(("after the restart the tablets made no progress\n" + joined(fleetProblems(fleet))).c_str());
    }
    fleet.stopAndJoin();
    const std::vector<std::string> problems = fleetProblems(fleet);
    QVERIFY2(problems.empty(), joined(problems).c_str());

    int retried = 0, rechecked = 0;
    std::map<int, int> answers;
    for (const auto& t : fleet.tablets()) {
      retried += t->retriedBatches();
      rechecked += t->recheckedBatches();
      for (const auto& [code, n] : t->httpFailures()) answers[code] += n;
    }
    for (const auto& [code, n] : answers) {
      qInfo().noquote() << QStringLiteral("pushes answered %1 around the stop: %2").arg(code).arg(n);
    }
    QCOMPARE(rechecked, kTablets);
    Credentials reader;
    QVERIFY2(enrolTablet(server.url(), "sigterm-auditor", &reader, &error), error.c_str());
    const std::string url = server.url();
    Audit audit = auditStore(url, reader, fleet.tablets(), [&](int) { return url; });
    qInfo().noquote() << QStringLiteral(
                             "SIGTERM: stopped in %1 ms; acknowledged ops %2, lost %3, duplicated %4, unknown %5, "
                             "seq mismatches %6; batches retried after the restart %7")
                             .arg(stopMs)
                             .arg(audit.acknowledged)
                             .arg(audit.lost)
                             .arg(audit.duplicated)
                             .arg(audit.unknown)
                             .arg(audit.seqMismatch)
                             .arg(retried);
    QVERIFY2(audit.clean(), audit.summary().c_str());
    QVERIFY(audit.acknowledged >= ackedBefore);
    QCOMPARE(audit.pulled, audit.acknowledged);

    // The restarted server stops cleanly too, with nothing in flight.
    QVERIFY(server.proc().signal(SIGTERM));
    QVERIFY2(server.proc().waitExit(60000, &status), "the restarted server ignored SIGTERM");
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             (describeWaitStatus(status) + "\n" + server.proc().output()).c_str());
  }
};

QTEST_GUILESS_MAIN(SigtermTest)
#include "sigterm_test.moc"
