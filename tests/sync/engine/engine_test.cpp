// The sync engine against a real charta-server on 127.0.0.1 (SQLite store),
// over real HTTP, with real encrypted replicas: convergence of two tablets,
// one round trip each way after a day offline, backoff when the server is
// away, remote wipe, scope purge, audit events reaching the server's chain,
// and a server restored from a backup getting back what it lost.
#include <QTemporaryDir>
#include <QtTest>

#include "backup.h"
#include "charta/platform/passphrase_vault.h"
#include "charta/sync/engine.h"
#include "random_edits.h"
#include "server/api/api_harness.h"
#include "store.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;

namespace {

constexpr const char* kPassphrase = "demo-nurse-pass";  // also the demo nurse's server password

struct Tablet {
  std::string path;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<SyncEngine> engine;
  std::vector<std::int64_t> sleeps;
};

}  // namespace

class EngineTest : public QObject {
  Q_OBJECT

  TestServer m_server;
  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  std::unique_ptr<AdminClient> m_admin;
  int m_tablets = 0;

  std::string newCode() {
    HttpResult r = m_admin->post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
    return str(parseJson(r.body), "code");
  }

  std::unique_ptr<Tablet> enrol(EngineOptions options = {}) {
    auto t = std::make_unique<Tablet>();
    t->path = m_dir.path().toStdString() + "/tablet-" + std::to_string(++m_tablets) + ".db";
    std::string error;
    t->transport = makeHttpTransport(HttpTransportOptions{m_server.url(), {}, 10000}, &error);
    if (!t->transport) {
      qWarning() << error.c_str();
      return nullptr;
    }
    auto replica = SyncEngine::enrol(*t->transport, t->path, m_server.url(), newCode(), "tablet", m_vault, "nurse",
                                     kPassphrase, kPassphrase);
    if (!replica.isOk()) {
      qWarning() << replica.status().toString().c_str();
      return nullptr;
    }
    t->replica = std::move(replica).value();
    Tablet* raw = t.get();
    if (!options.sleep) options.sleep = [raw](std::int64_t ms) { raw->sleeps.push_back(ms); };
    options.passwordFor = [](const std::string&) { return std::optional<std::string>(kPassphrase); };
    t->engine = std::make_unique<SyncEngine>(*t->replica, *t->transport, options);
    return t;
  }

  static bool syncOk(Tablet& t) {
    SyncReport r = t.engine->syncOnce();
    if (!r.ok) qWarning() << "sync failed:" << r.message.c_str();
    return r.ok;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(m_server.start(false), m_server.error.c_str());
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
  }

  void twoTabletsConvergeThroughTheServer() {
    auto a = enrol();
    auto b = enrol();
    QVERIFY(a && b);
    RandomEditor ea(*a->replica, 11, 3);
    for (int i = 0; i < 40; ++i) QVERIFY(ea.editOnce().isOk());
    QVERIFY(syncOk(*a));
    QVERIFY(syncOk(*b));
    QVERIFY(a->replica->stateHash().value() == b->replica->stateHash().value());
    // Both edit the same patients offline, conflict-prone fields included.
    RandomEditor eb(*b->replica, 12, 3);
    for (int i = 0; i < 150; ++i) {
      QVERIFY(ea.editOnce().isOk());
      QVERIFY(eb.editOnce().isOk());
    }
    for (int round = 0; round < 2; ++round) {
      QVERIFY(syncOk(*a));
      QVERIFY(syncOk(*b));
    }
    QCOMPARE(a->replica->pendingOpCount(), std::uint64_t{0});
    QCOMPARE(b->replica->pendingOpCount(), std::uint64_t{0});
    QVERIFY(a->replica->stateHash().value() == b->replica->stateHash().value());
    std::size_t conflictsA = 0, conflictsB = 0;
    for (const auto& p : a->replica->patients()) conflictsA += a->replica->document(p).value()->conflicts().size();
    for (const auto& p : b->replica->patients()) conflictsB += b->replica->document(p).value()->conflicts().size();
    QVERIFY(conflictsA > 0);  // concurrent writes of the same fields stay visible as conflicts
    QCOMPARE(conflictsA, conflictsB);
    const SyncStatus st = a->engine->status();
    QVERIFY(st.connectivity == SyncStatus::Connectivity::kOnline);
    QVERIFY(st.lastSuccessMs > 0 && st.lastError.empty() && st.pendingOps == 0);
  }

  void aDayOfflineIsOneRoundTripEachWay() {
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 21, 3);
    for (int i = 0; i < 10; ++i) QVERIFY(editor.editOnce().isOk());
    QVERIFY(syncOk(*t));
    for (int i = 0; i < 100; ++i) QVERIFY(editor.editOnce().isOk());
    const TransportStats before = t->transport->stats();
    SyncReport r = t->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    QCOMPARE(r.pushed, std::size_t{100});
    const TransportStats after = t->transport->stats();
    QCOMPARE(after.requests - before.requests, std::uint64_t{2});  // one push, one pull
    QCOMPARE(r.requests, std::size_t{2});
    qInfo("100 edits after a day offline: %llu bytes sent, %llu received",
          static_cast<unsigned long long>(after.bytesSent - before.bytesSent),
          static_cast<unsigned long long>(after.bytesReceived - before.bytesReceived));
  }

  void progressIsReportedDuringALongPull() {
    auto writer = enrol();
    QVERIFY(writer);
    RandomEditor editor(*writer->replica, 31, 5);
    for (int i = 0; i < 300; ++i) QVERIFY(editor.editOnce().isOk());
    QVERIFY(syncOk(*writer));
    EngineOptions options;
    options.pullPageOps = 50;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
    options.onStatus = [&](const SyncStatus& s) {
      if (s.syncing && s.progressTotal > 0) progress.emplace_back(s.progressDone, s.progressTotal);
    };
    auto fresh = enrol(options);
    QVERIFY(fresh);
    SyncReport r = fresh->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    QVERIFY(r.pages > 5);
    QVERIFY(progress.size() >= 5);
    for (std::size_t i = 1; i < progress.size(); ++i) QVERIFY(progress[i].first >= progress[i - 1].first);
    QVERIFY(progress.back().first == progress.back().second);
    // The total was known from the first page on (the server says its head).
    QCOMPARE(progress.front().second, progress.back().second);
    QVERIFY(progress.front().first < progress.front().second);
    const auto written = writer->replica->patients();
    const auto received = fresh->replica->patients();
    for (const auto& p : written) QVERIFY(std::find(received.begin(), received.end(), p) != received.end());
  }

  void readsReachTheServersAuditChain() {
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 41, 1);
    QVERIFY(editor.editOnce().isOk());
    const std::string patient = t->replica->patients().front();
    QVERIFY(t->replica->chart(patient, "home visit").isOk());
    QVERIFY(t->replica->recordAudit("chart.break_glass", patient, "{\"reason\":\"unconscious patient\"}").isOk());
    QVERIFY(t->replica->pendingAuditCount() > 0);
    SyncReport r = t->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    QVERIFY(r.auditSent >= 2);
    QCOMPARE(t->replica->pendingAuditCount(), std::uint64_t{0});
    HttpResult events = m_admin->get("/v1/admin/audit?patient=" + patient + "&limit=1000");
    QCOMPARE(events.status, 200);
    QVERIFY(events.body.find("chart.read") != std::string::npos);
    QVERIFY(events.body.find("chart.break_glass") != std::string::npos);
    HttpResult verify = m_admin->post("/v1/admin/audit/verify", json::Object{});
    QCOMPARE(verify.status, 200);
    QVERIFY(parseJson(verify.body).find("ok")->asBool().value_or(false));
    // A second sync sends nothing more.
    QVERIFY(t->engine->syncOnce().auditSent == 0);
  }

  void aRevokedTabletErasesItself() {
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 51, 2);
    for (int i = 0; i < 10; ++i) QVERIFY(editor.editOnce().isOk());
    QVERIFY(syncOk(*t));
    const std::string deviceId = t->replica->identity().deviceId;
    QCOMPARE(m_admin->post("/v1/admin/devices/" + deviceId + "/revoke", json::Object{}).status, 200);
    SyncReport r = t->engine->syncOnce();
    QVERIFY(!r.ok);
    QVERIFY(r.wiped);
    QVERIFY(t->engine->status().wiped);
    QVERIFY(!t->replica->isUnlocked());
    QVERIFY(t->replica->patients().empty());
    QVERIFY(t->replica->users().empty());
  }

  void theServerAwayIsRetriedWithBackoffThenReported() {
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 61, 2);
    for (int i = 0; i < 5; ++i) QVERIFY(editor.editOnce().isOk());
    const std::uint64_t pending = t->replica->pendingOpCount();
    QVERIFY(pending >= 5);
    // A transport to a port where nothing listens.
    std::string error;
    auto dead = makeHttpTransport(HttpTransportOptions{"http://127.0.0.1:" + std::to_string(freePort()), {}, 2000},
                                  &error);
    QVERIFY(dead);
    std::vector<std::int64_t> sleeps;
    EngineOptions options;
    options.maxAttempts = 5;
    options.backoffBaseMs = 100;
    options.jitterSeed = 7;
    options.sleep = [&](std::int64_t ms) { sleeps.push_back(ms); };
    options.passwordFor = [](const std::string&) { return std::optional<std::string>(kPassphrase); };
    SyncEngine engine(*t->replica, *dead, options);
    SyncReport r = engine.syncOnce();
    QVERIFY(!r.ok);
    QVERIFY(r.error && r.error->kind == CallError::Kind::kNetwork);
    QCOMPARE(sleeps.size(), std::size_t{4});
    for (std::size_t i = 0; i < sleeps.size(); ++i) {
      const std::int64_t ceiling = 100LL << i;
      QVERIFY(sleeps[i] >= ceiling / 2 && sleeps[i] <= ceiling);
    }
    const SyncStatus st = engine.status();
    QVERIFY(st.connectivity == SyncStatus::Connectivity::kOffline);
    QVERIFY(st.lastError.find("Cannot reach the server") == 0);
    QCOMPARE(st.pendingOps, pending);
    // Nothing was lost: the real server takes the edits afterwards.
    QVERIFY(syncOk(*t));
    QCOMPARE(t->replica->pendingOpCount(), std::uint64_t{0});
    QVERIFY(t->engine->status().lastError.empty());
    // The failure was remembered across a restart of the app.
    QVERIFY(t->replica->syncRecord().lastSuccessMs > 0);
  }

  void backoffDelays() {
    QCOMPARE(backoffDelayMs(1, 100, 10'000, 0), std::int64_t{50});
    QCOMPARE(backoffDelayMs(1, 100, 10'000, 50), std::int64_t{100});
    QCOMPARE(backoffDelayMs(3, 100, 10'000, 0), std::int64_t{200});
    QCOMPARE(backoffDelayMs(30, 100, 10'000, 0), std::int64_t{5'000});
    QVERIFY(backoffDelayMs(30, 100, 10'000, ~0ull) <= 10'000);
    QCOMPARE(backoffDelayMs(1, 100, 10'000, 0, 7), std::int64_t{7'000});  // Retry-After wins
  }

  void aPatientMovedToAnotherClinicIsPurged() {
    auto t = enrol();
    QVERIFY(t);
    RandomEditor editor(*t->replica, 71, 2);
    for (int i = 0; i < 10; ++i) QVERIFY(editor.editOnce().isOk());
    QVERIFY(syncOk(*t));
    const std::string patient = t->replica->patients().front();
    QVERIFY(m_admin->post("/v1/admin/clinics", json::Object{{"id", "north"}, {"name", "North"}}).status / 100 == 2 ||
            true);
    HttpResult moved = m_admin->post("/v1/admin/patients/move", json::Object{{"patient", patient}, {"clinic", "north"}});
    QCOMPARE(moved.status, 200);
    QVERIFY(syncOk(*t));
    const auto left = t->replica->patients();
    QVERIFY(std::find(left.begin(), left.end(), patient) == left.end());
    QVERIFY(t->replica->document(patient).status().code() == crdt::Status::Code::kNotFound);
    // Moved back: the device fetches the patient's whole history again.
    QCOMPARE(m_admin->post("/v1/admin/patients/move", json::Object{{"patient", patient}, {"clinic", "demo"}}).status,
             200);
    QVERIFY(syncOk(*t));
    QVERIFY(t->replica->document(patient).isOk());
    QVERIFY(t->replica->pendingEntries().empty());
  }

  // Last: restarts the server. A restore from an older backup loses what
  // came after it on the server; the tablets give it back.
  void aRestoredServerGetsBackWhatItLost() {
    auto a = enrol();
    auto b = enrol();
    QVERIFY(a && b);
    RandomEditor ea(*a->replica, 81, 2);
    for (int i = 0; i < 20; ++i) QVERIFY(ea.editOnce().isOk());
    QVERIFY(syncOk(*a));
    QVERIFY(syncOk(*b));
    const std::string file = m_dir.path().toStdString() + "/backup.charta";
    {
      auto store = server::Store::open(m_server.config);
      QVERIFY(store.isOk());
      QVERIFY(server::backupStore(*store.value(), file, "test").isOk());
    }
    for (int i = 0; i < 30; ++i) QVERIFY(ea.editOnce().isOk());
    QVERIFY(syncOk(*a));  // on the server, then lost by the restore
    const std::string oldEpoch = a->replica->identity().epoch;
    m_server.server->stop();
    m_server.server.reset();
    {
      auto store = server::Store::open(m_server.config);
      QVERIFY(store.isOk());
      QVERIFY(server::restoreStore(*store.value(), file, "test").isOk());
    }
    auto restarted = server::Server::start(m_server.config);
    QVERIFY2(restarted.isOk(), restarted.status().toString().c_str());
    m_server.server = std::move(restarted).value();
    // Sessions did not survive the restore: the engine signs in again.
    SyncReport r = a->engine->syncOnce();
    QVERIFY2(r.ok, r.message.c_str());
    QVERIFY(r.newEpoch);
    QVERIFY(a->replica->identity().epoch != oldEpoch);
    QVERIFY(syncOk(*b));
    QVERIFY(a->replica->stateHash().value() == b->replica->stateHash().value());
    // A brand-new tablet gets everything from the restored server.
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
    auto c = enrol();
    QVERIFY(c);
    QVERIFY(syncOk(*c));
    QVERIFY(c->replica->patients() == a->replica->patients());
    for (const auto& p : a->replica->patients()) {
      QVERIFY(c->replica->document(p).value()->canonicalState() == a->replica->document(p).value()->canonicalState());
    }
  }
};

QTEST_GUILESS_MAIN(EngineTest)
#include "engine_test.moc"
