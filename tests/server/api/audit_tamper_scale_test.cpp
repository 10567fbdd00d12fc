// Tampering with the server's audit chain at scale (SQLite, or PostgreSQL
// when built with CHARTA_API_TEST_POSTGRES). A chain of a few thousand events
// is made through the HTTP API of a server started in process (sign-ins,
// pushes, pulls, chart reads and tablets' audit uploads); the server is then
// stopped and each trial changes the stored chain behind its back: a random
// column of a random row edited, a random row deleted, or two rows swapped
// (their sequence numbers exchanged). The server's chain verification (the
// code behind POST /v1/admin/audit/verify and `charta-server audit verify`)
// must find every change and name its first broken row.
//
// On SQLite every trial starts from a copy of the stopped server's file. On
// PostgreSQL every trial runs on the one database and puts the changed rows
// back afterwards; the chain must then verify intact before the next trial.
// CHARTA_TAMPER_TRIALS sets the number of trials (default 1000; PostgreSQL
// runs half as many, as it verifies the chain twice per trial).
#include <QtTest>
#include <filesystem>
#include <random>

#include "api/api_fixture.h"

using namespace charta;
using namespace charta::test;
using server::Blob;
using server::DbRow;
using server::DbValue;

namespace {

int tamperTrials() {
  const char* env = std::getenv("CHARTA_TAMPER_TRIALS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 1000;
}

// The columns of an audit row, in the order the queries below read them.
const std::vector<std::string> kColumns = {"seq",       "at",         "user_id", "device_id", "address", "action",
                                           "clinic_id", "patient_id", "detail",  "prev_hash", "hash"};

struct Statement {
  std::string sql;
  std::vector<DbValue> params;
};

// One change to the chain: what it was, the row verification must name,
// and the statements that undo it.
struct Tamper {
  std::string what;
  std::int64_t firstBroken = 0;
  std::vector<Statement> undo;
};

}  // namespace

class AuditTamperScaleTest : public ApiFixture {
  Q_OBJECT

  TestServer m_server;
  std::int64_t m_rows = 0;  // the chain's length
  std::mt19937_64 m_rng{20261207};

  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(m_rng() % static_cast<std::uint64_t>(n)); }

  // Runs statements on the store; false (with a warning) on the first failure.
  static bool runAll(server::Connection& c, const std::vector<Statement>& statements) {
    for (const Statement& s : statements) {
      crdt::Status st = c.exec(s.sql, s.params);
      if (!st.isOk()) {
        qWarning("%s: %s", s.sql.c_str(), st.toString().c_str());
        return false;
      }
    }
    return true;
  }

  // Changes the chain through `c` in one of three ways, chosen at random.
  bool tamper(server::Connection& c, Tamper& out) {
    const std::int64_t seq = 1 + below(m_rows);
    std::string select = "SELECT ";
    for (const std::string& col : kColumns) select += (col == "seq" ? "" : ", ") + col;
    auto rows = c.query(select + " FROM audit WHERE seq = $1", std::vector<DbValue>{seq});
    if (!rows.isOk() || rows.value().size() != 1) return false;
    const DbRow row = rows.value()[0];
    std::vector<Statement> change;
    out.firstBroken = seq;
    switch (below(3)) {
      case 0: {  // one column of one row edited
        const auto col = static_cast<std::size_t>(below(static_cast<std::int64_t>(kColumns.size())));
        const std::string update = "UPDATE audit SET " + kColumns[col] + " = $1 WHERE seq = $2";
        DbValue changed;
        std::int64_t where = seq;
        if (col == 0) {  // renumbered past the end
          changed = m_rows + 1000 + below(1000);
          where = std::get<std::int64_t>(changed);
        } else if (col == 1) {
          changed = server::dbInt(row[col]) + 1 + below(86'400'000);
        } else if (col >= 9) {
          std::string bytes = server::dbBytes(row[col]);
          const auto bit = static_cast<std::size_t>(below(static_cast<std::int64_t>(bytes.size()) * 8));
          bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
          changed = Blob{bytes};
        } else {
          std::string text = server::dbText(row[col]);
          const auto at = static_cast<std::size_t>(below(static_cast<std::int64_t>(text.size()) + 1));
          if (at == text.size() || static_cast<unsigned char>(text[at]) >= 0x80) {
            text += "x";  // appended (and never into a multi-byte character)
          } else {
            text[at] = text[at] == 'Z' ? 'Q' : 'Z';
          }
          changed = text;
        }
        change.push_back({update, {changed, seq}});
        out.undo.push_back({update, {row[col], where}});
        out.what = "edit " + kColumns[col] + " of row " + std::to_string(seq);
        break;
      }
      case 1: {  // one row deleted
        change.push_back({"DELETE FROM audit WHERE seq = $1", {seq}});
        out.undo.push_back(
            {"INSERT INTO audit (" + select.substr(7) + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
             row});
        out.what = "delete row " + std::to_string(seq);
        break;
      }
      default: {  // two rows swapped
        std::int64_t other = 1 + below(m_rows - 1);
        if (other >= seq) ++other;
        const std::string move = "UPDATE audit SET seq = $1 WHERE seq = $2";
        change = {{move, {std::int64_t{-1}, seq}}, {move, {seq, other}}, {move, {other, std::int64_t{-1}}}};
        out.undo = change;  // the same swap again
        out.firstBroken = std::min(seq, other);
        out.what = "swap rows " + std::to_string(seq) + " and " + std::to_string(other);
        break;
      }
    }
    return runAll(c, change);
  }

  // The server's verification of the chain.
  static crdt::Result<server::AuditVerify> verify(server::Store& store) { return server::verifyAudit(store); }

 private slots:
  // A chain of a few thousand events, written through the HTTP API.
  void initTestCase() {
    startServer(m_server);
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    std::vector<std::unique_ptr<TabletClient>> tablets;
    std::vector<std::unique_ptr<Chart>> charts;
    for (int i = 0; i < 3; ++i) {
      tablets.push_back(std::make_unique<TabletClient>(m_server.url()));
      enrolAndLogin(*tablets.back(), m_server, issueCode(admin));
      charts.push_back(std::make_unique<Chart>(tablets.back()->replica, "nurse", "p-chain-" + std::to_string(i)));
    }
    std::vector<std::int64_t> deviceSeq(tablets.size(), 0);
    for (int round = 0; round < 20; ++round) {
      for (std::size_t i = 0; i < tablets.size(); ++i) {
        TabletClient& t = *tablets[i];
        if (round % 4 == 3) QCOMPARE(t.login("nurse", "demo-nurse-pass").status, 200);
        crdt::Op op = charts[i]->write(crdt::field::kFamilyName, "Name " + std::to_string(round));
        QCOMPARE(t.push({op}).status, 200);
        QCOMPARE(t.pullRaw(0).status, 200);
        json::Array events;
        for (int e = 0; e < 45; ++e) {
          events.push_back(deviceAuditEvent(++deviceSeq[i], "nurse", "chart.read", charts[i]->doc.patientId(),
                                            "{\"round\":" + std::to_string(round) + "}"));
        }
        HttpResult up = t.uploadAudit(events);
        QVERIFY2(up.status == 200, up.body.c_str());
      }
      (void)admin.get("/fhir/Patient/p-chain-0/$everything");
      (void)admin.get("/v1/admin/audit?limit=10");
    }
    QVERIFY(chainVerifies(admin));
    m_server.server->stop();
    m_server.server.reset();
    auto store = server::Store::open(m_server.config);
    QVERIFY2(store.isOk(), store.status().toString().c_str());
    auto v = verify(*store.value());
    QVERIFY(v.isOk() && v.value().ok);
    m_rows = v.value().checked;
    QVERIFY2(m_rows >= 2500, std::to_string(m_rows).c_str());
  }

  void everyChangeIsFoundAndNamed() {
    // PostgreSQL verifies the whole chain twice a trial (after the change,
    // and after putting it back): half the trials keep it near a minute.
    const int trials = kPostgres ? std::max(1, tamperTrials() / 2) : tamperTrials();
    int detected = 0, named = 0;
    QElapsedTimer timer;
    timer.start();
    const std::string pristine = m_server.config.data + "/charta.db";
    server::Config config = m_server.config;
    if (!kPostgres) config.data = m_server.dir.path().toStdString() + "/trial";
    const std::string trialFile = config.data + "/charta.db";
    std::unique_ptr<server::Store> store;  // PostgreSQL: the one store
    for (int i = 0; i < trials; ++i) {
      if (!kPostgres) {  // a fresh copy of the stopped server's store
        store.reset();
        std::filesystem::create_directories(config.data);
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(trialFile + suffix);
        std::filesystem::copy_file(pristine, trialFile);
      }
      if (!store) {
        auto opened = server::Store::open(config);
        QVERIFY2(opened.isOk(), opened.status().toString().c_str());
        store = std::move(opened).value();
      }
      Tamper t;
      {
        auto lease = store->db().acquire();
        QVERIFY(lease.isOk());
        QVERIFY2(tamper(*lease.value(), t), "the change could not be made");
      }
      auto v = verify(*store);
      QVERIFY2(v.isOk(), v.status().toString().c_str());
      if (!v.value().ok) ++detected;
      if (!v.value().ok && v.value().firstBroken == t.firstBroken) ++named;
      if (v.value().ok || v.value().firstBroken != t.firstBroken) {
        qWarning("%s: verification said %s (row %lld)", t.what.c_str(),
                 v.value().ok ? "intact" : v.value().problem.c_str(), static_cast<long long>(v.value().firstBroken));
      }
      if (kPostgres) {  // put back, and the chain verifies intact again
        auto lease = store->db().acquire();
        QVERIFY(lease.isOk());
        QVERIFY(runAll(*lease.value(), t.undo));
        auto again = verify(*store);
        QVERIFY(again.isOk() && again.value().ok && again.value().checked == m_rows);
      }
    }
    qInfo().noquote() << QString::asprintf(
        "audit chain (%s, %lld rows): %d trials, %d detected, %d with the first broken row named, in %.1f s%s",
        kPostgres ? "postgres" : "sqlite", static_cast<long long>(m_rows), trials, detected, named,
        static_cast<double>(timer.elapsed()) / 1000.0,
        kPostgres ? " (one database, each change put back; half the trials of SQLite)"
                  : " (a fresh copy of the store per trial)");
    QCOMPARE(detected, trials);
    QCOMPARE(named, trials);
  }
};

QTEST_GUILESS_MAIN(AuditTamperScaleTest)
#include "audit_tamper_scale_test.moc"
