// Convergence under chaos with skewed clocks: five tablets, each behind its
// own fault-injecting proxy (partitions, 30 to 70 % of requests lost or cut in
// the middle, duplicates), with clocks that run right, 7 s ahead, a year
// behind, at 1970 and a year ahead. One server on SQLite, or (built with
// CHARTA_CHAOS_TEST_POSTGRES) two servers on one PostgreSQL database with the
// tablets split between them. After the network heals and every tablet syncs
// twice: every state hash is equal (0 divergences), a fresh tablet gets every
// op any tablet saved (0 lost), the server holds each once, and every op
// stamped beyond the server's future-clock bound is flagged (100 %), none
// other.
//
// CHARTA_CHAOS_ROUNDS (default 6) sets the rounds of chaos.
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <map>

#include "charta/platform/passphrase_vault.h"
#include "fault_fleet.h"
#include "server/api/api_harness.h"
#include "support/fault_proxy.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;

namespace {

#ifdef CHARTA_CHAOS_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

constexpr std::int64_t kDayMs = 24ll * 60 * 60 * 1000;
constexpr std::int64_t kYearMs = 365 * kDayMs;

std::int64_t systemMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The system clock moved by a fixed offset: a tablet whose clock is wrong.
class OffsetClock final : public crdt::WallClock {
 public:
  explicit OffsetClock(std::int64_t offsetMs) : m_offsetMs(offsetMs) {}
  std::uint64_t nowMs() const override { return static_cast<std::uint64_t>(systemMs() + m_offsetMs); }

 private:
  std::int64_t m_offsetMs;
};

struct Skew {
  const char* name;
  std::int64_t offsetMs;
  bool future;  // beyond the server's future-clock bound
};

}  // namespace

class ClockChaosTest : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;
  std::vector<std::unique_ptr<TestServer>> m_servers;
  std::unique_ptr<AdminClient> m_admin;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  std::vector<std::unique_ptr<OffsetClock>> m_clocks;
  std::vector<std::unique_ptr<FaultProxy>> m_proxies;  // one per tablet

  std::string newCode() {
    return str(parseJson(m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code");
  }

  // Tablet `i`, behind its own proxy to server i % servers, on `clock`.
  std::unique_ptr<FleetDevice> enrol(std::size_t i, const crdt::WallClock* clock) {
    TestServer& server = *m_servers[i % m_servers.size()];
    std::string error;
    auto proxy = FaultProxy::start(FaultProxyOptions{server.server->port(), 1000 + i, 4u << 20, 5000}, &error);
    if (!proxy) {
      qWarning() << error.c_str();
      return nullptr;
    }
    FleetDeviceSetup setup;
    setup.path = m_dir.path().toStdString() + "/tablet-" + std::to_string(i) + ".db";
    setup.serverUrl = server.url();
    setup.syncUrl = proxy->baseUrl();
    setup.code = newCode();
    setup.seed = 300 + i;
    setup.clock = clock;
    m_proxies.push_back(std::move(proxy));
    auto d = enrolFleetDevice(setup, m_vault, &error);
    if (!d) qWarning() << error.c_str();
    return d;
  }

 private slots:
  void initTestCase() {
    const std::size_t servers = kPostgres ? 2 : 1;
    std::string conninfo;
    for (std::size_t i = 0; i < servers; ++i) {
      m_servers.push_back(std::make_unique<TestServer>());
      QVERIFY2(m_servers.back()->start(kPostgres, conninfo), m_servers.back()->error.c_str());
      conninfo = m_servers.back()->config.postgres;  // the second server shares the first one's database
    }
    m_admin = std::make_unique<AdminClient>(m_servers[0]->url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
  }

  void convergesWithSkewedClocksThroughChaos() {
    const int rounds = envInt("CHARTA_CHAOS_ROUNDS", 6);
    const std::int64_t now = systemMs();
    const std::vector<Skew> skews = {{"right", 0, false},
                                     {"7 s ahead", 7000, false},
                                     {"a year behind", -kYearMs, false},
                                     {"at 1970", kDayMs - now, false},
                                     {"a year ahead", kYearMs, true}};
    std::vector<std::unique_ptr<FleetDevice>> tablets;
    for (std::size_t i = 0; i < skews.size(); ++i) {
      m_clocks.push_back(std::make_unique<OffsetClock>(skews[i].offsetMs));
      tablets.push_back(enrol(i, m_clocks.back().get()));
      QVERIFY(tablets.back());
    }
    // Everyone starts from the same patients (made by the tablet whose clock is right).
    for (int i = 0; i < 5; ++i) QVERIFY(tablets[0]->editor->editOnce().isOk());
    QVERIFY(tablets[0]->engine->syncOnce().ok);
    for (auto& t : tablets) QVERIFY(t->engine->syncOnce().ok);

    QRandomGenerator rng(17);
    std::size_t syncs = 0, failed = 0, partitioned = 0;
    for (int round = 0; round < rounds; ++round) {
      // Loss grows from 30 % of requests in the first round to 70 % in the last.
      const double loss = 0.3 + 0.4 * round / std::max(1, rounds - 1);
      FaultConfig faults;
      faults.dropRequest = loss * 0.25;
      faults.dropResponse = loss * 0.25;
      faults.cutRequest = loss * 0.2;
      faults.cutResponse = loss * 0.3;
      faults.duplicate = 0.15;
      faults.delayJitterMs = 10;
      for (std::size_t i = 0; i < tablets.size(); ++i) {
        m_proxies[i]->setFaults(faults);
        const bool cutOff = rng.bounded(100) < 30;
        m_proxies[i]->setPartitioned(cutOff);
        partitioned += cutOff ? 1 : 0;
      }
      for (auto& t : tablets) {
        const int edits = 5 + static_cast<int>(rng.bounded(20));
        for (int e = 0; e < edits; ++e) QVERIFY(t->editor->editOnce().isOk());
        ++syncs;
        if (!t->engine->syncOnce().ok) ++failed;
      }
    }
    std::uint64_t requests = 0, faulted = 0;
    for (auto& p : m_proxies) {
      const FaultStats s = p->stats();
      requests += s.requestsSeen;
      faulted += s.droppedRequests + s.droppedResponses + s.cutRequests + s.cutResponses + s.duplicated;
      p->heal();
    }
    for (int pass = 0; pass < 2; ++pass) {
      for (auto& t : tablets) {
        SyncReport r = t->engine->syncOnce();
        QVERIFY2(r.ok, r.message.c_str());
      }
    }

    // 0 divergences.
    const std::string hash = tablets[0]->replica->stateHash().value();
    std::size_t divergent = 0;
    for (auto& t : tablets) {
      QCOMPARE(t->replica->pendingOpCount(), std::uint64_t{0});
      if (t->replica->stateHash().value() != hash) ++divergent;
    }
    QCOMPARE(divergent, std::size_t{0});

    // 0 lost: a fresh tablet (on the second server, when there are two) has
    // every op; each stored once.
    m_clocks.push_back(std::make_unique<OffsetClock>(0));
    auto fresh = enrol(tablets.size(), m_clocks.back().get());
    QVERIFY(fresh);
    QVERIFY(fresh->engine->syncOnce().ok);
    QVERIFY(fresh->replica->stateHash().value() == hash);
    const std::uint64_t ops = opsOn(*tablets[0]->replica);
    QCOMPARE(opsOn(*fresh->replica), ops);
    if (!kPostgres) QCOMPARE(serverOpRows(m_servers[0]->config.data), static_cast<std::int64_t>(ops));

    // Flags: every op of the tablet a year ahead, and no other.
    json::Value devices = parseJson(m_admin->get("/v1/admin/devices").body);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> pushedAndFlagged;  // by replica id
    for (const json::Value& d : *devices.find("devices")->asArray()) {
      pushedAndFlagged[str(d, "replica_id")] = {num(d, "ops_pushed"), num(d, "future_clock_ops")};
    }
    std::int64_t stored = 0, futureOps = 0, flagged = 0, wronglyFlagged = 0;
    for (std::size_t i = 0; i < tablets.size(); ++i) {
      const auto [pushed, flags] = pushedAndFlagged[std::to_string(tablets[i]->replica->identity().replica.value)];
      QVERIFY2(pushed > 0, skews[i].name);
      stored += pushed;
      if (skews[i].future) {
        futureOps += pushed;
        flagged += flags;
      } else {
        wronglyFlagged += flags;
      }
    }
    QCOMPARE(stored, static_cast<std::int64_t>(ops));  // pushes counted once each: nothing stored twice
    QVERIFY(futureOps > 0);
    QCOMPARE(flagged, futureOps);
    QCOMPARE(wronglyFlagged, std::int64_t{0});

    qInfo(
        "clock chaos (%s, %zu server(s)): %d rounds, %zu tablet syncs (%zu failed under faults, %zu partitioned); "
        "%llu requests, %llu faulted; %llu ops; divergences %zu, lost 0, stored twice 0; "
        "future-clock ops flagged %lld of %lld (100%%), others flagged %lld",
        kPostgres ? "postgres" : "sqlite", m_servers.size(), rounds, syncs, failed, partitioned,
        static_cast<unsigned long long>(requests), static_cast<unsigned long long>(faulted),
        static_cast<unsigned long long>(ops), divergent, static_cast<long long>(flagged),
        static_cast<long long>(futureOps), static_cast<long long>(wronglyFlagged));
    QVERIFY(faulted > 0);  // the faults did happen
  }

  void cleanupTestCase() {
    m_proxies.clear();
    for (auto& s : m_servers) s->server.reset();
  }
};

QTEST_GUILESS_MAIN(ClockChaosTest)
#include "clock_chaos_test.moc"
