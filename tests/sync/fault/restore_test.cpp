// Restore while tablets keep working: three tablets edit and sync against a
// real server; a backup is taken while it serves; the tablets go on until at
// least 1,000 more ops are acknowledged (CHARTA_RESTORE_OPS); the server is
// then restored from that backup, and the tablets keep editing while it is
// down. After the restart each tablet sees the new epoch and pushes again what
// the server lacks: every op any tablet held is back on the server (0 lost),
// stored once, and every tablet (and a fresh one) shows the same charts.
// On SQLite, or on PostgreSQL when built with CHARTA_RESTORE_TEST_POSTGRES.
#include <QTemporaryDir>
#include <QtTest>

#include "backup.h"
#include "charta/platform/passphrase_vault.h"
#include "fault_fleet.h"
#include "server/api/api_harness.h"
#include "store.h"

using namespace charta;
using namespace charta::sync;
using namespace charta::test;

namespace {

#ifdef CHARTA_RESTORE_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

// A sync, tried again when the first call meets a connection the restarted
// server no longer has.
SyncReport syncSoon(SyncEngine& engine) {
  SyncReport r;
  for (int i = 0; i < 3 && !r.ok; ++i) r = engine.syncOnce();
  return r;
}

}  // namespace

class RestoreTest : public QObject {
  Q_OBJECT

  TestServer m_server;
  QTemporaryDir m_dir;
  platform::PassphraseVault m_vault{platform::PassphraseVault::Strength::kMinimumForTests};
  int m_tablets = 0;

  std::unique_ptr<FleetDevice> enrol() {
    AdminClient admin(m_server.url());
    if (admin.login("admin", "demo-admin-pass").status != 200) return nullptr;
    FleetDeviceSetup setup;
    setup.path = m_dir.path().toStdString() + "/tablet-" + std::to_string(++m_tablets) + ".db";
    setup.serverUrl = m_server.url();
    setup.syncUrl = m_server.url();
    setup.code = str(parseJson(admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code");
    setup.seed = 500 + static_cast<std::uint64_t>(m_tablets);
    setup.pullPageOps = 200;
    setup.timeoutMs = 10000;
    std::string error;
    auto d = enrolFleetDevice(setup, m_vault, &error);
    if (!d) qWarning() << error.c_str();
    return d;
  }

  // The server's op sequence head, as the admin API reports it.
  std::int64_t serverHead() {
    AdminClient admin(m_server.url());
    if (admin.login("admin", "demo-admin-pass").status != 200) return -1;
    return num(parseJson(admin.get("/v1/admin/devices").body), "head");
  }

 private slots:
  void initTestCase() { QVERIFY2(m_server.start(kPostgres), m_server.error.c_str()); }

  void restoreFromAnOldBackupLosesNothingTabletsHeld() {
    const std::uint64_t wantAfterBackup = static_cast<std::uint64_t>(envInt("CHARTA_RESTORE_OPS", 1000));
    std::vector<std::unique_ptr<FleetDevice>> tablets;
    for (int i = 0; i < 3; ++i) {
      tablets.push_back(enrol());
      QVERIFY(tablets.back());
    }
    auto work = [&](int edits) {
      for (auto& t : tablets) {
        for (int e = 0; e < edits; ++e) QVERIFY(t->editor->editOnce().isOk());
      }
    };
    auto syncAll = [&] {
      for (auto& t : tablets) {
        SyncReport r = syncSoon(*t->engine);
        QVERIFY2(r.ok, r.message.c_str());
      }
    };
    work(30);
    syncAll();
    syncAll();

    // The backup, taken while the server serves.
    const std::string file = m_dir.path().toStdString() + "/backup.charta";
    std::int64_t opsInBackup = 0;
    {
      auto store = server::Store::open(m_server.config);
      QVERIFY2(store.isOk(), store.status().toString().c_str());
      auto info = server::backupStore(*store.value(), file, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
      opsInBackup = info.value().ops;
    }
    QCOMPARE(static_cast<std::uint64_t>(opsInBackup), opsOn(*tablets[0]->replica));

    // Life goes on: at least 1,000 more ops acknowledged by the server.
    while (opsOn(*tablets[0]->replica) < static_cast<std::uint64_t>(opsInBackup) + wantAfterBackup) {
      work(25);
      syncAll();
      syncAll();
      for (auto& t : tablets) QCOMPARE(t->replica->pendingOpCount(), std::uint64_t{0});
    }
    const std::uint64_t ackedAfterBackup = opsOn(*tablets[0]->replica) - static_cast<std::uint64_t>(opsInBackup);

    const std::int64_t headBeforeRestore = serverHead();
    QVERIFY(headBeforeRestore > 0);

    // Disaster: the server goes down and is restored from the old backup;
    // the tablets keep working meanwhile.
    m_server.server->stop();
    m_server.server.reset();
    work(10);
    for (auto& t : tablets) QVERIFY(!t->engine->syncOnce().ok);
    {
      auto store = server::Store::open(m_server.config);
      QVERIFY2(store.isOk(), store.status().toString().c_str());
      auto info = server::restoreStore(*store.value(), file, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
      QCOMPARE(info.value().ops, opsInBackup);
    }
    work(10);
    // What the tablets hold: tablet 0's ops and the others' offline edits.
    std::uint64_t madeWhileDown = 0;
    for (auto& t : tablets) madeWhileDown += t->replica->pendingOpCount();
    const std::uint64_t held = opsOn(*tablets[0]->replica) + madeWhileDown - tablets[0]->replica->pendingOpCount();
    auto restarted = server::Server::start(m_server.config);
    QVERIFY2(restarted.isOk(), restarted.status().toString().c_str());
    m_server.server = std::move(restarted).value();

    // Each tablet sees the new epoch and pushes again what the server lacks.
    std::size_t repushed = 0;
    for (auto& t : tablets) {
      SyncReport r = syncSoon(*t->engine);
      QVERIFY2(r.ok, r.message.c_str());
      QVERIFY(r.newEpoch);
      repushed += r.pushed;
    }
    syncAll();

    const std::string hash = tablets[0]->replica->stateHash().value();
    std::size_t divergent = 0;
    for (auto& t : tablets) {
      QCOMPARE(t->replica->pendingOpCount(), std::uint64_t{0});
      if (t->replica->stateHash().value() != hash) ++divergent;
    }
    QCOMPARE(divergent, std::size_t{0});
    const std::uint64_t ops = opsOn(*tablets[0]->replica);
    QCOMPARE(ops, held);
    auto fresh = enrol();
    QVERIFY(fresh);
    QVERIFY(syncSoon(*fresh->engine).ok);
    QVERIFY(fresh->replica->stateHash().value() == hash);
    QCOMPARE(opsOn(*fresh->replica), ops);
    if (!kPostgres) QCOMPARE(serverOpRows(m_server.config.data), static_cast<std::int64_t>(ops));
    // A restore keeps the op sequence going from the higher head, and every
    // op stored takes the next number: since the restore the server stored
    // exactly the ops the backup lacked, each once (on either store).
    QCOMPARE(serverHead() - headBeforeRestore, static_cast<std::int64_t>(ops) - opsInBackup);

    qInfo(
        "restore (%s): backup held %lld ops; %llu more acknowledged after it; %llu made while the server was down; "
        "%zu acknowledged when pushed again (duplicates included); %llu ops on the server and every tablet: lost 0, "
        "stored twice 0, "
        "divergences 0",
        kPostgres ? "postgres" : "sqlite", static_cast<long long>(opsInBackup),
        static_cast<unsigned long long>(ackedAfterBackup), static_cast<unsigned long long>(madeWhileDown), repushed,
        static_cast<unsigned long long>(ops));
  }
};

QTEST_GUILESS_MAIN(RestoreTest)
#include "restore_test.moc"
