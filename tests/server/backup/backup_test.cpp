// Backup and restore: back up while serving, sync more, restore, and the
// tablets' re-push on the new epoch loses nothing; revocations, the audit
// trail and the devices' audit cursors survive the restore. On SQLite, or on
// PostgreSQL when built with CHARTA_BACKUP_TEST_POSTGRES.

#include <QtTest>

#include <filesystem>
#include <set>

#include "api/api_harness.h"
#include "backup.h"
#include "charta/crdt/schema.h"
#include "crypto.h"
#include "store.h"
#include "support/fake_clock.h"

using namespace charta;
using namespace charta::test;

namespace {

#ifdef CHARTA_BACKUP_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

std::vector<crdt::Op> writes(crdt::OpFactory& f, crdt::ChartDocument& doc, int n, const std::string& prefix) {
  std::vector<crdt::Op> ops;
  for (int i = 0; i < n; ++i) {
    crdt::Op op = f.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                               prefix + std::to_string(i));
    (void)doc.apply(op);
    ops.push_back(op);
  }
  return ops;
}

}  // namespace

class BackupTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY(server::initCrypto().isOk()); }

  void restoreLosesNothingAnyTabletHolds() {
    TestServer s;
    QVERIFY2(s.start(kPostgres), s.error.c_str());
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    auto code = [&] { return str(parseJson(admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).body), "code"); };

    TabletClient tablet(s.url()), lost(s.url());
    QCOMPARE(tablet.enrol(code()).status, 200);
    QCOMPARE(tablet.login("nurse", "demo-nurse-pass").status, 200);
    QCOMPARE(lost.enrol(code()).status, 200);
    testing::FakeWallClock clock(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    crdt::OpFactory factory(crdt::ReplicaId{std::stoull(tablet.replica)}, clock);
    factory.setUser("nurse");
    crdt::ChartDocument doc("backup-patient");
    std::vector<crdt::Op> before = writes(factory, doc, 10, "555-1");
    QCOMPARE(tablet.push(before).status, 200);
    json::Array auditBefore{deviceAuditEvent(1, "nurse", "chart.read", "backup-patient"),
                            deviceAuditEvent(2, "nurse", "unlock")};
    QCOMPARE(num(parseJson(tablet.uploadAudit(auditBefore).body), "acked"), std::int64_t{2});
    std::string oldEpoch = str(parseJson(tablet.pullRaw(0).body), "epoch");
    QVERIFY(!oldEpoch.empty());

    // Back up while the server is serving.
    const std::string file = s.dir.path().toStdString() + "/backup.charta";
    {
      auto store = server::Store::open(s.config);
      QVERIFY2(store.isOk(), store.status().toString().c_str());
      auto info = server::backupStore(*store.value(), file, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
      QCOMPARE(info.value().ops, std::int64_t{10});
      QVERIFY(info.value().auditRows > 0);
      // A second backup to the same name is refused, the first is kept.
      QVERIFY(server::backupStore(*store.value(), file, "test").status().code() == crdt::Status::Code::kAlreadyExists);
    }

    // Life goes on after the backup: more ops, a device lost and revoked.
    std::vector<crdt::Op> after = writes(factory, doc, 7, "555-2");
    QCOMPARE(tablet.push(after).status, 200);
    json::Array auditAfter{deviceAuditEvent(3, "nurse", "chart.read", "backup-patient"),
                           deviceAuditEvent(4, "nurse", "break_glass", "backup-patient", "{\"reason\":\"code blue\"}")};
    QCOMPARE(num(parseJson(tablet.uploadAudit(auditAfter).body), "acked"), std::int64_t{4});
    QCOMPARE(admin.post("/v1/admin/devices/" + lost.deviceId + "/revoke", json::Object{}).status, 200);

    // Disaster: the server is restored from the backup.
    s.server->stop();
    s.server.reset();
    {
      auto store = server::Store::open(s.config);
      QVERIFY(store.isOk());
      auto info = server::restoreStore(*store.value(), file, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
      QCOMPARE(info.value().ops, std::int64_t{10});
      QVERIFY(info.value().keptAudit);
      QVERIFY(info.value().epoch != oldEpoch);
    }
    auto restarted = server::Server::start(s.config);
    QVERIFY2(restarted.isOk(), restarted.status().toString().c_str());
    s.server = std::move(restarted).value();

    // Sessions are gone; the revocation made after the backup still holds.
    // (The clients' kept-alive connections died with the old server: the
    // first call on each may fail in transport, and is retried, as a tablet does.)
    HttpResult gone = tablet.pullRaw(0);
    for (int i = 0; i < 3 && gone.status == 0; ++i) gone = tablet.pullRaw(0);
    QCOMPARE(gone.status, 401);
    HttpResult lostLogin = lost.login("nurse", "demo-nurse-pass");
    for (int i = 0; i < 3 && lostLogin.status == 0; ++i) lostLogin = lost.login("nurse", "demo-nurse-pass");
    QVERIFY2(lostLogin.status == 410, (lostLogin.error + lostLogin.body).c_str());
    QCOMPARE(tablet.login("nurse", "demo-nurse-pass").status, 200);

    // The kept audit trail holds the device's events up to 4, and the server
    // still knows it: a resend stores nothing, the next event follows on.
    HttpResult resent = tablet.uploadAudit(auditAfter);
    QVERIFY2(resent.status == 200, resent.body.c_str());
    QCOMPARE(num(parseJson(resent.body), "acked"), std::int64_t{4});
    HttpResult next = tablet.uploadAudit(json::Array{deviceAuditEvent(5, "nurse", "lock")});
    QCOMPARE(num(parseJson(next.body), "acked"), std::int64_t{5});

    // The tablet sees a new epoch and pushes everything it holds again.
    HttpResult pulled = tablet.pullRaw(0);
    QCOMPARE(pulled.status, 200);
    QVERIFY(str(parseJson(pulled.body), "epoch") != oldEpoch);
    std::vector<crdt::Op> all = before;
    all.insert(all.end(), after.begin(), after.end());
    HttpResult repush = tablet.push(all);
    QVERIFY2(repush.status == 200, repush.body.c_str());
    json::Value rv = parseJson(repush.body);
    QCOMPARE(num(rv, "duplicates"), std::int64_t{10});
    QCOMPARE(num(rv, "stored"), std::int64_t{7});

    // Every op any tablet held is on the server, once.
    std::int64_t cursor = 0;
    std::vector<crdt::Op> server = tablet.pullAll(cursor);
    std::set<std::string> want, got;
    for (const crdt::Op& op : all) want.insert(crdt::encodeOp(op));
    for (const crdt::Op& op : server) got.insert(crdt::encodeOp(op));
    QVERIFY(want == got);
    QCOMPARE(server.size(), all.size());

    // The audit trail kept everything since the backup and still verifies.
    HttpResult relogin = admin.login("admin", "demo-admin-pass");
    for (int i = 0; i < 3 && relogin.status == 0; ++i) relogin = admin.login("admin", "demo-admin-pass");
    QCOMPARE(relogin.status, 200);
    HttpResult verify = admin.post("/v1/admin/audit/verify", json::Object{});
    QCOMPARE(verify.status, 200);
    QCOMPARE(parseJson(verify.body).find("ok")->asBool().value_or(false), true);
    std::size_t deviceEvents = 0;
    json::Value deviceRows = parseJson(admin.get("/v1/admin/audit?limit=1000&device=" + tablet.deviceId).body);
    for (const json::Value& e : *deviceRows.find("events")->asArray()) {
      if (str(e, "action").rfind("tablet.", 0) == 0) ++deviceEvents;
    }
    QCOMPARE(deviceEvents, std::size_t{5});
    HttpResult restoreEvents = admin.get("/v1/admin/audit?action=store.restore");
    json::Value ev = parseJson(restoreEvents.body);
    QCOMPARE(ev.find("events")->asArray()->size(), std::size_t{1});
    HttpResult revokeEvents = admin.get("/v1/admin/audit?action=device.revoke");
    json::Value rev = parseJson(revokeEvents.body);
    QCOMPARE(rev.find("events")->asArray()->size(), std::size_t{1});
  }

  // Restored onto a store with no audit trail, the chain is the backup's, and
  // so are the devices' audit cursors; a backup made before the cursors
  // existed restores without them.
  void restoreOntoAFreshStoreTakesTheBackupsAuditCursors() {
    TestServer s;
    QVERIFY2(s.start(kPostgres), s.error.c_str());
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    HttpResult code = admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}});
    TabletClient tablet(s.url());
    QCOMPARE(tablet.enrol(str(parseJson(code.body), "code")).status, 200);
    QCOMPARE(tablet.login("nurse", "demo-nurse-pass").status, 200);
    json::Array events{deviceAuditEvent(1, "nurse", "chart.read", "p-1"),
                       deviceAuditEvent(2, "nurse", "chart.read", "p-2"), deviceAuditEvent(3, "nurse", "lock")};
    QCOMPARE(num(parseJson(tablet.uploadAudit(events).body), "acked"), std::int64_t{3});
    const std::string dir = s.dir.path().toStdString();
    const std::string file = dir + "/backup.charta";
    const std::string older = dir + "/older.charta";
    {
      auto store = server::Store::open(s.config);
      QVERIFY(store.isOk());
      auto info = server::backupStore(*store.value(), file, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
    }
    std::filesystem::copy_file(file, older);
    {
      auto db = server::Database::openSqlite(older, 1);
      QVERIFY(db.isOk());
      auto lease = db.value()->acquire();
      QVERIFY(lease.isOk());
      QVERIFY((*lease.value()).exec("DROP TABLE device_audit").isOk());
    }
    int n = 0;
    for (auto [backup, cursors] : {std::pair{file, 1}, std::pair{older, 0}}) {
      server::Config fresh = s.config;
      fresh.data = dir + "/fresh-" + std::to_string(++n);
      if (kPostgres) {
        std::string error;
        fresh.postgres = newPostgresDatabase(&error);
        QVERIFY2(!fresh.postgres.empty(), error.c_str());
      }
      auto store = server::Store::open(fresh);
      QVERIFY2(store.isOk(), store.status().toString().c_str());
      auto info = server::restoreStore(*store.value(), backup, "test");
      QVERIFY2(info.isOk(), info.status().toString().c_str());
      QVERIFY(!info.value().keptAudit);
      std::vector<server::DbRow> rows;
      crdt::Status read = store.value()->read([&](server::Connection& c) {
        auto r = c.query("SELECT device_id, acked_seq FROM device_audit");
        if (!r.isOk()) return r.status();
        rows = r.value();
        return crdt::Status::ok();
      });
      QVERIFY2(read.isOk(), read.toString().c_str());
      QCOMPARE(static_cast<int>(rows.size()), cursors);
      if (cursors == 1) {
        QCOMPARE(QString::fromStdString(server::dbText(rows[0][0])), QString::fromStdString(tablet.deviceId));
        QCOMPARE(server::dbInt(rows[0][1]), std::int64_t{3});
      }
      auto verified = server::verifyAudit(*store.value());
      QVERIFY(verified.isOk());
      QVERIFY2(verified.value().ok, verified.value().problem.c_str());
    }
  }

  void restoreRefusesWhatIsNotABackup() {
    TestServer s;
    QVERIFY2(s.start(kPostgres), s.error.c_str());
    s.server->stop();
    auto store = server::Store::open(s.config);
    QVERIFY(store.isOk());
    QVERIFY(server::restoreStore(*store.value(), s.dir.path().toStdString() + "/missing", "test").status().code() ==
            crdt::Status::Code::kNotFound);
    const std::string junk = s.dir.path().toStdString() + "/junk";
    {
      std::ofstream out(junk);
      out << "this is not a database";
    }
    auto r = server::restoreStore(*store.value(), junk, "test");
    QVERIFY(!r.isOk());
    // Nothing of the store was touched: the demo clinic is still there.
    bool demo = false;
    QVERIFY(store.value()->read([&](server::Connection& c) {
      auto rows = c.query("SELECT COUNT(*) FROM clinics WHERE id = 'demo'");
      demo = rows.isOk() && server::dbInt(rows.value()[0][0]) == 1;
      return crdt::Status::ok();
    }).isOk());
    QVERIFY(demo);
  }
};

QTEST_GUILESS_MAIN(BackupTest)
#include "backup_test.moc"
