// Two charta-server processes on one PostgreSQL database, started at the same
// moment (so their schema creation races). A tablet enrolled through one
// server sees, through the other, exactly what was pushed to the first; under
// concurrent pushes to both, pulls from either return the same ops in the
// same order, each acknowledged op once with the seq it was acknowledged with.

#include <QtTest>

#include "process/process_harness.h"

using namespace charta;
using namespace charta::test;
using namespace charta::test::process;

namespace {

constexpr int kTablets = 4;
constexpr int kConcurrentMs = 4000;

// A tablet's outbox written by hand: `n` ops on one patient.
std::vector<crdt::Op> writeOps(const Credentials& c, const std::string& patient, int n) {
  testing::FakeWallClock clock(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
  crdt::OpFactory factory(crdt::ReplicaId{std::stoull(c.replica)}, clock, 1);
  factory.setUser("nurse");
  crdt::ChartDocument doc(patient);
  std::vector<crdt::Op> ops;
  for (int i = 0; i < n; ++i) {
    crdt::Op op = factory.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                     crdt::Value(std::string("555-") + std::to_string(i)));
    (void)doc.apply(op);
    ops.push_back(std::move(op));
  }
  return ops;
}

std::vector<std::string> keysOf(const std::vector<crdt::Op>& ops) {
  std::vector<std::string> out;
  for (const crdt::Op& op : ops) out.push_back(opKey(op));
  return out;
}

}  // namespace

class TwoServersTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  std::string m_bin;
  ServerProcess m_server[2];
  std::uint16_t m_port[2] = {0, 0};
  std::set<std::string> m_earlier;  // ops pushed by the first test

  std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(m_port[i]); }

  bool push(const Credentials& c, const std::string& serverUrl, const std::vector<crdt::Op>& ops, std::string* error) {
    auto t = clientFor(serverUrl, c);
    HttpResult r = t->push(ops);
    json::Value v = parseJson(r.body);
    if (r.status != 200 || num(v, "stored") != static_cast<std::int64_t>(ops.size())) {
      *error = "push: " + std::to_string(r.status) + " " + r.body.substr(0, 300) + r.error;
      return false;
    }
    return true;
  }

 private slots:
  void initTestCase() {
    m_bin = serverBinary();
    QVERIFY2(!m_bin.empty(), "CHARTA_SERVER_BIN is not set");
    QVERIFY(m_dir.isValid());
    std::string error;
    const std::string conninfo = newPostgresDatabase(&error);
    QVERIFY2(!conninfo.empty(), error.c_str());
    m_port[0] = freePort();
    do {
      m_port[1] = freePort();
    } while (m_port[1] == m_port[0] && m_port[1] != 0);
    QVERIFY(m_port[0] != 0 && m_port[1] != 0);
    const std::string root = m_dir.path().toStdString();
    // Both at once on an empty database. Only server 1 is asked for the demo
    // clinic: --demo checks for an empty store and creates the clinic in two
    // separate transactions, so two servers started together with --demo can
    // both see an empty store and the second then exits ("clinic demo exists").
    for (int i = 0; i < 2; ++i) {
      std::vector<std::string> args = {"serve",  "--log-level", "warn", "--postgres", conninfo,
                                       "--data", root + "/data" + std::to_string(i + 1),
                                       "--listen", "127.0.0.1:" + std::to_string(m_port[i])};
      if (i == 0) args.push_back("--demo");
      QVERIFY2(m_server[i].spawn(m_bin, args, root + "/server" + std::to_string(i + 1) + ".log", &error),
               error.c_str());
    }
    for (int i = 0; i < 2; ++i) {
      QVERIFY2(m_server[i].waitListening(90000, &error), ("server " + std::to_string(i + 1) + ": " + error).c_str());
    }
  }

  void pushedToOneIsPulledFromTheOther() {
    std::string error;
    Credentials a, b;
    QVERIFY2(enrolTablet(url(0), "tablet-a", &a, &error), error.c_str());  // code and enrolment on server 1
    QVERIFY2(enrolTablet(url(1), "tablet-b", &b, &error), error.c_str());  // code and enrolment on server 2

    const std::vector<crdt::Op> fromA = writeOps(a, "two-servers-a", 50);
    QVERIFY2(push(a, url(0), fromA, &error), error.c_str());
    std::vector<std::string> seenByB;
    QVERIFY2(pullKeys(url(1), b, &seenByB, &error), error.c_str());
    QVERIFY(seenByB == keysOf(fromA));

    const std::vector<crdt::Op> fromB = writeOps(b, "two-servers-b", 50);
    QVERIFY2(push(b, url(1), fromB, &error), error.c_str());
    std::vector<std::string> seenByA;
    QVERIFY2(pullKeys(url(0), a, &seenByA, &error), error.c_str());
    std::vector<std::string> both = keysOf(fromA);
    for (const std::string& k : keysOf(fromB)) both.push_back(k);
    QVERIFY(seenByA == both);
    std::vector<std::string> seenByBAgain;
    QVERIFY2(pullKeys(url(1), b, &seenByBAgain, &error), error.c_str());
    QVERIFY(seenByBAgain == both);
    m_earlier.insert(both.begin(), both.end());
  }

  void concurrentPushesToBothServers() {
    std::string error;
    // Tablet 0 uses server 1, tablet 1 server 2; tablets 2 and 3 switch server every batch.
    Fleet fleet({url(0), url(1)}, [](int tablet, int batch) -> std::size_t {
      if (tablet < 2) return static_cast<std::size_t>(tablet);
      return static_cast<std::size_t>((tablet + batch) % 2);
    });
    for (int i = 0; i < kTablets; ++i) {
      Credentials c;
      QVERIFY2(enrolTablet(url(i % 2), "concurrent-" + std::to_string(i), &c, &error), error.c_str());
      fleet.add(std::make_unique<StreamTablet>(i, c, "two-servers-patient-" + std::to_string(i)));
    }
    const auto started = Clock::now();
    fleet.start();
    if (!fleet.waitForProgress(180000)) {
      fleet.stopAndJoin();
      QFAIL(("the tablets made no progress\n" + joined(fleetProblems(fleet))).c_str());
    }
    sleepMs(kConcurrentMs);
    fleet.stopAndJoin();
    const std::int64_t streamMs = msSince(started);
    const std::vector<std::string> problems = fleetProblems(fleet);
    QVERIFY2(problems.empty(), joined(problems).c_str());

    Credentials reader1, reader2;
    QVERIFY2(enrolTablet(url(0), "reader-1", &reader1, &error), error.c_str());
    QVERIFY2(enrolTablet(url(1), "reader-2", &reader2, &error), error.c_str());
    // Pulled from server 1; every acknowledged op pushed again to the server it was not (first) sent to.
    Audit one = auditStore(url(0), reader1, fleet.tablets(),
                           [&](int tablet) { return url(tablet == 0 ? 1 : 0); }, m_earlier);
    Audit two = auditStore(url(1), reader2, fleet.tablets(),
                           [&](int tablet) { return url(tablet == 1 ? 0 : 1); }, m_earlier);
    qInfo().noquote() << QStringLiteral(
                             "two servers: %1 ms of concurrent pushes; acknowledged ops %2; pulled from server 1 %3, "
                             "from server 2 %4; lost %5/%6, duplicated %7/%8, seq mismatches %9/%10")
                             .arg(streamMs)
                             .arg(one.acknowledged)
                             .arg(one.pulled)
                             .arg(two.pulled)
                             .arg(one.lost)
                             .arg(two.lost)
                             .arg(one.duplicated)
                             .arg(two.duplicated)
                             .arg(one.seqMismatch)
                             .arg(two.seqMismatch);
    QVERIFY2(one.clean(), ("server 1: " + one.summary()).c_str());
    QVERIFY2(two.clean(), ("server 2: " + two.summary()).c_str());
    QVERIFY(one.acknowledged > 0);
    QCOMPARE(one.pulled, one.acknowledged + static_cast<std::int64_t>(m_earlier.size()));
    QVERIFY2(one.keys == two.keys, "the two servers return the ops in different orders");
  }

  void cleanupTestCase() {
    for (int i = 0; i < 2; ++i) {
      if (!m_server[i].running()) continue;
      QVERIFY(m_server[i].signal(SIGTERM));
      int status = 0;
      QVERIFY2(m_server[i].waitExit(60000, &status), "a server ignored SIGTERM");
      QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               (describeWaitStatus(status) + "\n" + m_server[i].output()).c_str());
    }
  }
};

QTEST_GUILESS_MAIN(TwoServersTest)
#include "two_servers_test.moc"
