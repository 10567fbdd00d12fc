// Soak: many simulated tablets syncing against one charta-server process (on
// SQLite) for a while, as a clinic's fleet does through a day: every tablet
// syncs every CHARTA_SOAK_INTERVAL_MS (default 2,000 ms, with jitter), each
// sync a pull from its cursor and, one sync in three, a push of 1 to 3 new
// ops. CHARTA_SOAK_DEVICES (default 300) tablets, for CHARTA_SOAK_SECONDS
// (default 30; 600 and more on demand). Measured: requests, the error rate
// (goal 0: every request answered 2xx), client-side p50/p99 latency of pulls
// and pushes, and the server's resident memory sampled every second, at the
// start and the end, with its trend over the second half of the run. At the
// end every acknowledged op is on the server once (its sequence head counts
// them), and the memory of the last quarter of the run is within 10 % + 16 MiB
// of the second quarter's (no growth trend).

#include <QtTest>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "process/process_harness.h"

using namespace charta;
using namespace charta::test;
using namespace charta::test::process;

namespace {

constexpr int kWorkers = 24;

// Resident memory of a process in KiB (VmRSS), -1 when unreadable.
long rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

// Least-squares slope of y over x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double d = n * sxx - sx * sx;
  return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

// One simulated tablet: its credentials, client, charts and cursor.
struct SoakTablet {
  std::unique_ptr<TabletClient> client;
  testing::FakeWallClock clock;
  std::unique_ptr<crdt::OpFactory> factory;
  std::vector<std::unique_ptr<crdt::ChartDocument>> charts;
  std::int64_t cursor = 0;
  std::int64_t syncs = 0;
  std::int64_t acked = 0;
  Clock::time_point due;
};

// What the workers count; merged at the end.
struct Tally {
  std::int64_t requests = 0, errors = 0, acked = 0, pulledOps = 0;
  std::vector<double> pullMs, pushMs;
  std::vector<std::string> firstErrors;
  void error(std::string what) {
    ++errors;
    if (firstErrors.size() < 5) firstErrors.push_back(std::move(what));
  }
};

void syncOnce(SoakTablet& t, Tally& tally, std::mt19937& rng) {
  auto started = Clock::now();
  HttpResult pulled = t.client->pullRaw(t.cursor);
  tally.pullMs.push_back(static_cast<double>(msSince(started)));
  ++tally.requests;
  if (pulled.status != 200) {
    tally.error("pull " + std::to_string(pulled.status) + " " + pulled.error + pulled.body.substr(0, 200));
  } else {
    json::Value v = parseJson(pulled.body);
    const json::Value* ops = v.find("ops");
    tally.pulledOps += ops && ops->asArray() ? static_cast<std::int64_t>(ops->asArray()->size()) : 0;
    t.cursor = num(v, "next");
  }
  if (t.syncs++ % 3 != 0) return;
  t.clock.set(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
  std::vector<crdt::Op> batch;
  const int n = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < n; ++i) {
    crdt::ChartDocument& doc = *t.charts[rng() % t.charts.size()];
    crdt::Op op = t.factory->writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                        crdt::Value("555-" + std::to_string(rng() % 10000)));
    (void)doc.apply(op);
    batch.push_back(std::move(op));
  }
  started = Clock::now();
  HttpResult pushed = t.client->push(batch);
  tally.pushMs.push_back(static_cast<double>(msSince(started)));
  ++tally.requests;
  if (pushed.status != 200) {
    tally.error("push " + std::to_string(pushed.status) + " " + pushed.error + pushed.body.substr(0, 200));
    return;
  }
  const std::int64_t stored = num(parseJson(pushed.body), "stored");
  t.acked += stored;
  tally.acked += stored;
}

}  // namespace

class SoakTest : public QObject {
  Q_OBJECT

 private slots:
  void fleetSyncsForAWhile() {
    const std::string bin = serverBinary();
    QVERIFY2(!bin.empty(), "CHARTA_SERVER_BIN is not set");
    const int devices = envInt("CHARTA_SOAK_DEVICES", 300);
    const int seconds = envInt("CHARTA_SOAK_SECONDS", 30);
    const int intervalMs = envInt("CHARTA_SOAK_INTERVAL_MS", 2000);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();
    ServerUnderTest server(bin, root, "server", {"serve", "--demo", "--log-level", "warn", "--data", root + "/data"});
    std::string error;
    QVERIFY2(server.launch(&error), error.c_str());

    // Enrol and sign in every tablet (a few at a time; one sysadmin session
    // issues the codes).
    AdminClient issuer(server.url());
    QCOMPARE(issuer.login("admin", "demo-admin-pass").status, 200);
    std::vector<SoakTablet> tablets(static_cast<std::size_t>(devices));
    std::atomic<int> next{0};
    std::mutex mu;
    std::string enrolErrors;
    std::vector<std::thread> enrolling;
    for (int w = 0; w < 4; ++w) {
      enrolling.emplace_back([&] {
        for (int i = next++; i < devices; i = next++) {
          const HttpResult code = issuer.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
          auto client = std::make_unique<TabletClient>(server.url());
          const HttpResult enrolled = client->enrol(str(parseJson(code.body), "code"), "soak-" + std::to_string(i));
          const HttpResult in = client->login("nurse", "demo-nurse-pass");
          if (code.status != 201 || enrolled.status != 200 || in.status != 200) {
            std::lock_guard lock(mu);
            enrolErrors += "tablet " + std::to_string(i) + ": code " + std::to_string(code.status) + ", enrol " +
                           std::to_string(enrolled.status) + ", login " + std::to_string(in.status) + " " + in.body +
                           "\n";
            continue;
          }
          SoakTablet& t = tablets[static_cast<std::size_t>(i)];
          t.factory = std::make_unique<crdt::OpFactory>(crdt::ReplicaId{std::stoull(client->replica)}, t.clock, 1);
          t.factory->setUser("nurse");
          t.client = std::move(client);
          for (int p = 0; p < 4; ++p) {
            t.charts.push_back(
                std::make_unique<crdt::ChartDocument>("soak-" + std::to_string(i) + "-" + std::to_string(p)));
          }
        }
      });
    }
    const auto enrolStart = Clock::now();
    for (std::thread& t : enrolling) t.join();
    QVERIFY2(enrolErrors.empty(), enrolErrors.c_str());
    qInfo("soak: %d tablets enrolled and signed in in %lld ms", devices, static_cast<long long>(msSince(enrolStart)));

    // The run: workers share the tablets; each tablet syncs when it is due.
    const pid_t pid = server.proc().pid();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(seconds);
    std::vector<Tally> tallies(kWorkers);
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        std::mt19937 rng(static_cast<std::uint32_t>(1000 + w));
        std::vector<SoakTablet*> mine;
        for (std::size_t i = static_cast<std::size_t>(w); i < tablets.size(); i += kWorkers) {
          tablets[i].due = start + std::chrono::milliseconds(rng() % static_cast<std::uint32_t>(intervalMs));
          mine.push_back(&tablets[i]);
        }
        while (!mine.empty()) {
          SoakTablet* t = *std::min_element(mine.begin(), mine.end(),
                                            [](const SoakTablet* a, const SoakTablet* b) { return a->due < b->due; });
          if (t->due >= deadline) break;
          std::this_thread::sleep_until(t->due);
          syncOnce(*t, tallies[static_cast<std::size_t>(w)], rng);
          const int jitter = static_cast<int>(rng() % static_cast<std::uint32_t>(intervalMs / 5 + 1));
          t->due = std::max(t->due + std::chrono::milliseconds(intervalMs - intervalMs / 10 + jitter), Clock::now());
        }
      });
    }
    std::vector<double> at, rssMiB;
    while (Clock::now() < deadline) {
      const long kib = rssKiB(pid);
      if (kib > 0) {
        at.push_back(static_cast<double>(msSince(start)) / 1000.0);
        rssMiB.push_back(static_cast<double>(kib) / 1024.0);
      }
      sleepMs(1000);
    }
    for (std::thread& t : workers) t.join();
    const double wallS = static_cast<double>(msSince(start)) / 1000.0;

    Tally all;
    for (Tally& t : tallies) {
      all.requests += t.requests;
      all.errors += t.errors;
      all.acked += t.acked;
      all.pulledOps += t.pulledOps;
      all.pullMs.insert(all.pullMs.end(), t.pullMs.begin(), t.pullMs.end());
      all.pushMs.insert(all.pushMs.end(), t.pushMs.begin(), t.pushMs.end());
      for (auto& e : t.firstErrors) {
        if (all.firstErrors.size() < 5) all.firstErrors.push_back(e);
      }
    }
    QVERIFY(rssMiB.size() >= 4);
    const std::size_t q = rssMiB.size() / 4;
    const double second =
        median({rssMiB.begin() + static_cast<std::ptrdiff_t>(q), rssMiB.begin() + static_cast<std::ptrdiff_t>(2 * q)});
    const double last = median({rssMiB.begin() + static_cast<std::ptrdiff_t>(3 * q), rssMiB.end()});
    const std::size_t half = rssMiB.size() / 2;
    const double trend = slope({at.begin() + static_cast<std::ptrdiff_t>(half), at.end()},
                               {rssMiB.begin() + static_cast<std::ptrdiff_t>(half), rssMiB.end()}) *
                         60.0;

    // Every acknowledged op is on the server once: the sequence head counts
    // every op stored, and nothing else stored ops.
    AdminClient admin(server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    const std::int64_t head = num(parseJson(admin.get("/v1/admin/devices").body), "head");

    const double errorRate = all.requests > 0 ? static_cast<double>(all.errors) / static_cast<double>(all.requests) : 1;
    qInfo(
        "soak: %d tablets syncing every %d ms for %.0f s: %lld requests (%.0f/s), errors %lld (rate %.5f); "
        "pull p50 %.0f ms p99 %.0f ms, push p50 %.0f ms p99 %.0f ms; %lld ops acknowledged, server head %lld; "
        "server RSS %.1f MiB at the start, %.1f at the end (medians: second quarter %.1f, last quarter %.1f; "
        "trend over the second half %+.2f MiB/min)",
        devices, intervalMs, wallS, static_cast<long long>(all.requests), static_cast<double>(all.requests) / wallS,
        static_cast<long long>(all.errors), errorRate, percentile(all.pullMs, 0.5), percentile(all.pullMs, 0.99),
        percentile(all.pushMs, 0.5), percentile(all.pushMs, 0.99), static_cast<long long>(all.acked),
        static_cast<long long>(head), rssMiB.front(), rssMiB.back(), second, last, trend);
    QVERIFY2(all.errors == 0, all.firstErrors.empty() ? "" : all.firstErrors.front().c_str());
    QVERIFY(all.requests >= static_cast<std::int64_t>(devices));  // every tablet synced
    QCOMPARE(head, all.acked);
    QVERIFY2(last <= second * 1.10 + 16.0,
             qPrintable(QStringLiteral("server memory grew from %1 to %2 MiB").arg(second).arg(last)));
    // And it still stops cleanly.
    QVERIFY(server.proc().signal(SIGTERM));
    int status = 0;
    QVERIFY(server.proc().waitExit(60000, &status));
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, describeWaitStatus(status).c_str());
  }
};

QTEST_GUILESS_MAIN(SoakTest)
#include "soak_test.moc"
