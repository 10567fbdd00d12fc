#pragma once

// What the API suites share (api_test.cpp, break_glass_test.cpp): a tablet's
// local chart, and a fixture that starts servers on the store under test
// (SQLite, or PostgreSQL when built with CHARTA_API_TEST_POSTGRES) and talks
// to them as an admin would.

#include <QtTest>

#include <memory>
#include <string>
#include <vector>

#include "api/api_harness.h"
#include "charta/crdt/schema.h"
#include "db.h"
#include "store.h"
#include "support/fake_clock.h"

namespace charta::test {

#ifdef CHARTA_API_TEST_POSTGRES
inline constexpr bool kPostgres = true;
#else
inline constexpr bool kPostgres = false;
#endif

inline crdt::FieldRef demographic(crdt::FieldId f) { return crdt::FieldRef{crdt::Collection::kDemographics, {}, f}; }

// A tablet's local side: its factory and its copy of one chart.
struct Chart {
  // `firstSeq`: where this chart's ops start in the device's sequence (one
  // device writing several charts must not reuse an op id).
  Chart(const std::string& replica, const std::string& user, const std::string& patient, std::uint64_t firstSeq = 1)
      : factory(crdt::ReplicaId{std::stoull(replica)}, clock, firstSeq), doc(patient) {
    clock.set(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    factory.setUser(user);
  }
  crdt::Op write(crdt::FieldId f, crdt::Value v) {
    crdt::Op op = factory.writeField(doc, demographic(f), std::move(v));
    (void)doc.apply(op);
    return op;
  }
  void receive(const std::vector<crdt::Op>& ops) {
    for (const crdt::Op& op : ops) {
      if (op.patient == doc.patientId()) (void)doc.apply(op);
    }
  }
  testing::FakeWallClock clock;
  crdt::OpFactory factory;
  crdt::ChartDocument doc;
};

class ApiFixture : public QObject {
 protected:
  void startServer(TestServer& s) {
    QVERIFY2(s.start(kPostgres), s.error.c_str());
  }

  void enrolAndLogin(TabletClient& t, TestServer& s, const std::string& code) {
    HttpResult e = t.enrol(code);
    QVERIFY2(e.status == 200, e.body.c_str());
    HttpResult l = t.login("nurse", "demo-nurse-pass");
    QVERIFY2(l.status == 200, l.body.c_str());
    Q_UNUSED(s);
  }

  std::string issueCode(AdminClient& admin, const std::string& clinic = "demo") {
    HttpResult r = admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", clinic}});
    return r.status == 201 ? str(parseJson(r.body), "code") : std::string();
  }

  // The audit rows of one action, in chain order.
  std::vector<json::Value> auditOf(AdminClient& admin, const std::string& action) {
    HttpResult r = admin.get("/v1/admin/audit?limit=1000&action=" + action);
    if (r.status != 200) {
      qWarning("audit query failed: %d %s", r.status, r.body.c_str());
      return {};
    }
    json::Value v = parseJson(r.body);
    return *v.find("events")->asArray();
  }

  bool chainVerifies(AdminClient& admin) {
    HttpResult r = admin.post("/v1/admin/audit/verify", json::Object{});
    return r.status == 200 && parseJson(r.body).find("ok")->asBool().value_or(false);
  }

  // Stops the server, runs `statements` on its store directly (to make it
  // look like an older store), and starts it again on the same config.
  void restartAfter(TestServer& s, const std::vector<std::string>& statements) {
    s.server->stop();
    s.server.reset();
    {
      auto db = openStoreDirectly(s);
      QVERIFY(db);
      auto lease = db->acquire();
      QVERIFY(lease.isOk());
      for (const std::string& sql : statements) QVERIFY2((*lease.value()).exec(sql).isOk(), sql.c_str());
    }
    auto restarted = server::Server::start(s.config);
    QVERIFY2(restarted.isOk(), restarted.status().toString().c_str());
    s.server = std::move(restarted).value();
  }

  std::unique_ptr<server::Database> openStoreDirectly(const TestServer& s) {
    auto db = kPostgres ? server::Database::openPostgres(s.config.postgres, 1)
                        : server::Database::openSqlite(s.config.data + "/charta.db", 1);
    if (!db.isOk()) {
      qWarning("cannot open the store: %s", db.status().toString().c_str());
      return nullptr;
    }
    return std::move(db).value();
  }
};

}  // namespace charta::test
