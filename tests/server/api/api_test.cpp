// The sync server's HTTP API end to end: a real charta-server on loopback
// with real storage (SQLite, or PostgreSQL when built with
// CHARTA_API_TEST_POSTGRES), driven over real HTTP. Break-glass has its own
// suite (break_glass_test.cpp).

#include <QtTest>

#include <set>
#include <thread>

#include "api/api_fixture.h"

using namespace charta;
using namespace charta::test;

class ApiTest : public ApiFixture {
  Q_OBJECT

 private:
  TestServer m_server;

  // The audit rows a device uploaded (actions "tablet.*"), in chain order.
  std::vector<json::Value> deviceRows(AdminClient& admin, const std::string& device) {
    std::vector<json::Value> out;
    std::int64_t after = 0;
    for (;;) {
      HttpResult r = admin.get("/v1/admin/audit?device=" + device + "&limit=1000&after=" + std::to_string(after));
      if (r.status != 200) {
        qWarning("audit query failed: %d %s", r.status, r.body.c_str());
        return out;
      }
      json::Value v = parseJson(r.body);
      const json::Array& events = *v.find("events")->asArray();
      for (const json::Value& e : events) {
        if (str(e, "action").rfind("tablet.", 0) == 0) out.push_back(e);
      }
      if (events.size() < 1000) return out;
      after = num(v, "next_after");
    }
  }


 private slots:
  void initTestCase() { startServer(m_server); }

  void healthAndMetrics() {
    HttpClient c(m_server.url());
    HttpResult h = c.get("/healthz");
    QCOMPARE(h.status, 200);
    json::Value v = parseJson(h.body);
    QCOMPARE(QString::fromStdString(str(v, "status")), QStringLiteral("ok"));
    QCOMPARE(QString::fromStdString(str(v, "store")), kPostgres ? QStringLiteral("postgres") : QStringLiteral("sqlite"));
    QVERIFY(!str(v, "epoch").empty());
    HttpResult m = c.get("/metrics");
    QCOMPARE(m.status, 200);
    QVERIFY(m.header("content-type")->rfind("text/plain", 0) == 0);
    for (const char* name : {"charta_http_requests_total", "charta_ops_stored_total", "charta_devices",
                             "charta_conflicts_open", "charta_errors_total", "charta_sync_latency_seconds"}) {
      QVERIFY2(m.body.find(name) != std::string::npos, name);
    }
  }

  void enrolmentCodeIsSingleUse() {
    TabletClient a(m_server.url()), b(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    std::string code = issueCode(admin);
    QVERIFY(!code.empty());
    QCOMPARE(a.enrol(code).status, 200);
    QVERIFY(!a.secret.empty());
    HttpResult again = b.enrol(code);
    QCOMPARE(again.status, 403);
    QCOMPARE(QString::fromStdString(errorCode(again)), QStringLiteral("bad_code"));
    // Lower case and without dashes, as a person might type it: still the same (used) code.
    std::string typed;
    for (char ch : code) {
      if (ch != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    QCOMPARE(b.enrol(typed).status, 403);
  }

  void nurseSignsInOnlyOnADevice() {
    AdminClient bare(m_server.url());
    HttpResult r = bare.login("nurse", "demo-nurse-pass");
    QCOMPARE(r.status, 403);
    TabletClient t(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    QCOMPARE(t.enrol(issueCode(admin)).status, 200);
    HttpResult wrong = t.login("nurse", "not-the-password");
    QCOMPARE(wrong.status, 401);
    QCOMPARE(QString::fromStdString(errorCode(wrong)), QStringLiteral("bad_credentials"));
    HttpResult ok = t.login("nurse", "demo-nurse-pass");
    QCOMPARE(ok.status, 200);
    json::Value v = parseJson(ok.body);
    QCOMPARE(QString::fromStdString(str(*v.find("user"), "role")), QStringLiteral("nurse"));
    QVERIFY(num(v, "expires_at") > QDateTime::currentMSecsSinceEpoch());
  }

  void pushIsIdempotentAndPullReturnsEverything() {
    TabletClient t(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    enrolAndLogin(t, m_server, issueCode(admin));
    std::vector<crdt::Op> ops;
    for (int p = 0; p < 5; ++p) {
      Chart chart(t.replica, "nurse", "idem-patient-" + std::to_string(p), static_cast<std::uint64_t>(p) * 100 + 1);
      ops.push_back(chart.write(crdt::field::kFamilyName, std::string("Family") + std::to_string(p)));
      ops.push_back(chart.write(crdt::field::kBirthDate, std::string("2001-02-0") + std::to_string(p + 1)));
    }
    HttpResult first = t.push(ops);
    QVERIFY2(first.status == 200, first.body.c_str());
    json::Value v1 = parseJson(first.body);
    QCOMPARE(num(v1, "stored"), std::int64_t{10});
    QCOMPARE(num(v1, "duplicates"), std::int64_t{0});
    const json::Array& seqs1 = *v1.find("seqs")->asArray();
    QCOMPARE(seqs1.size(), std::size_t{10});
    std::set<std::int64_t> distinct;
    for (const json::Value& s : seqs1) distinct.insert(*s.asInt());
    QCOMPARE(distinct.size(), std::size_t{10});
    QVERIFY(*distinct.begin() > 0);

    // A retry after a lost answer: nothing stored twice, same sequences.
    HttpResult second = t.push(ops);
    QCOMPARE(second.status, 200);
    json::Value v2 = parseJson(second.body);
    QCOMPARE(num(v2, "stored"), std::int64_t{0});
    QCOMPARE(num(v2, "duplicates"), std::int64_t{10});
    QVERIFY(*v2.find("seqs") == *v1.find("seqs"));

    // Another tablet of the clinic pulls them all, in pages.
    TabletClient other(m_server.url());
    enrolAndLogin(other, m_server, issueCode(admin));
    std::int64_t cursor = 0;
    std::vector<crdt::Op> pulled = other.pullAll(cursor);
    std::set<std::string> want, got;
    for (const crdt::Op& op : ops) want.insert(crdt::encodeOp(op));
    for (const crdt::Op& op : pulled) got.insert(crdt::encodeOp(op));
    for (const std::string& w : want) QVERIFY(got.count(w) == 1);
    QCOMPARE(static_cast<std::int64_t>(got.size()), static_cast<std::int64_t>(pulled.size()));  // none twice
    QVERIFY(cursor >= *distinct.rbegin());
    // An incremental pull with nothing new: one round trip, no ops, same cursor.
    HttpResult empty = other.pullRaw(cursor);
    QCOMPARE(empty.status, 200);
    json::Value ve = parseJson(empty.body);
    QCOMPARE(ve.find("ops")->asArray()->size(), std::size_t{0});
    QCOMPARE(num(ve, "next"), cursor);
    QCOMPARE(ve.find("more")->asBool().value_or(true), false);
  }

  void opsOfANewerKindAreStoredAndRelayed() {
    // A tablet of a newer release pushes an op of a kind this server cannot
    // read (docs/FORMAT.md, "Versioning"): stored and relayed unchanged.
    TabletClient t(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    enrolAndLogin(t, m_server, issueCode(admin));
    Chart chart(t.replica, "nurse", "newer-kind-patient");
    const crdt::Op name = chart.write(crdt::field::kFamilyName, std::string("Newer"));
    crdt::Op newer = chart.factory.writeField(chart.doc, demographic(crdt::field::kPhone), std::string("unused"));
    newer.body = crdt::UnknownOp{12, std::string("\x7f\x00 a newer body\x01", 17)};
    newer.context = {name.id};
    QCOMPARE(chart.doc.apply(newer).value(), crdt::ApplyOutcome::kApplied);
    crdt::Op after = chart.write(crdt::field::kGivenNames, std::string("Kind"));
    after.context = {newer.id};  // a later op that saw it
    const std::vector<crdt::Op> ops{name, newer, after};

    HttpResult pushed = t.push(ops);
    QVERIFY2(pushed.status == 200, pushed.body.c_str());
    json::Value v = parseJson(pushed.body);
    QCOMPARE(num(v, "stored"), std::int64_t{3});
    QCOMPARE(v.find("rejected")->asArray()->size(), std::size_t{0});
    HttpResult again = t.push({newer});
    QCOMPARE(num(parseJson(again.body), "duplicates"), std::int64_t{1});
    crdt::Op changed = newer;
    std::get<crdt::UnknownOp>(changed.body).body += "x";
    HttpResult clash = t.push({changed});
    QVERIFY(clash.body.find("already taken by a different op") != std::string::npos);

    // Another tablet gets the same bytes, and the same chart.
    TabletClient other(m_server.url());
    enrolAndLogin(other, m_server, issueCode(admin));
    std::int64_t cursor = 0;
    crdt::ChartDocument copy("newer-kind-patient");
    for (const crdt::Op& op : other.pullAll(cursor)) {
      if (op.patient != copy.patientId()) continue;
      QVERIFY2(copy.apply(op).isOk(), crdt::toString(op.id).c_str());
    }
    QCOMPARE(copy.newerOps().size(), std::size_t{1});
    QCOMPARE(crdt::encodeOp(copy.newerOps().begin()->second), crdt::encodeOp(newer));
    QCOMPARE(copy.stateHash(), chart.doc.stateHash());
  }

  void pullPagesResume() {
    TabletClient t(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    enrolAndLogin(t, m_server, issueCode(admin));
    Chart chart(t.replica, "nurse", "paged-patient");
    std::vector<crdt::Op> ops;
    for (int i = 0; i < 25; ++i) ops.push_back(chart.write(crdt::field::kPhone, std::string("555-") + std::to_string(i)));
    QCOMPARE(t.push(ops).status, 200);
    std::int64_t cursor = 0;
    std::vector<crdt::Op> seen;
    int pages = 0;
    for (;;) {
      HttpResult r = t.pullRaw(cursor, "&limit=7");
      QCOMPARE(r.status, 200);
      json::Value v = parseJson(r.body);
      QVERIFY(v.find("ops")->asArray()->size() <= 7);
      for (const json::Value& op : *v.find("ops")->asArray()) {
        auto decoded = crdt::decodeOp(TabletClient::server_base64(*op.asString()));
        QVERIFY(decoded.isOk());
        seen.push_back(decoded.value());
      }
      QVERIFY(num(v, "next") >= cursor);
      cursor = num(v, "next");
      ++pages;
      if (!v.find("more")->asBool().value_or(false)) break;
    }
    QVERIFY(pages >= 4);
    int mine = 0;
    for (const crdt::Op& op : seen) mine += op.patient == "paged-patient";
    QCOMPARE(mine, 25);
  }

  void rejectedAndFutureOps() {
    TabletClient t(m_server.url());
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    enrolAndLogin(t, m_server, issueCode(admin));
    Chart chart(t.replica, "nurse", "reject-patient");
    crdt::Op good = chart.write(crdt::field::kFamilyName, std::string("Okafor"));
    chart.factory.setUser("");  // an op without author breaks a rule
    crdt::Op bad = chart.write(crdt::field::kGivenNames, std::string("Ada"));
    chart.factory.setUser("nurse");
    chart.clock.advance(3LL * 24 * 3600 * 1000);  // a tablet whose clock runs 3 days ahead
    crdt::Op future = chart.write(crdt::field::kPhone, std::string("555-0100"));
    HttpResult r = t.push({good, bad, future});
    QVERIFY2(r.status == 200, r.body.c_str());
    json::Value v = parseJson(r.body);
    QCOMPARE(num(v, "stored"), std::int64_t{2});
    const json::Array& rejected = *v.find("rejected")->asArray();
    QCOMPARE(rejected.size(), std::size_t{1});
    QCOMPARE(num(rejected[0], "index"), std::int64_t{1});
    QVERIFY(str(rejected[0], "reason").find("author") != std::string::npos);
    const json::Array& seqs = *v.find("seqs")->asArray();
    QCOMPARE(*seqs[1].asInt(), std::int64_t{0});
    const json::Array& flagged = *v.find("future_clock")->asArray();
    QCOMPARE(flagged.size(), std::size_t{1});
    QCOMPARE(*flagged[0].asInt(), std::int64_t{2});
    // The rejected op stays rejected on a retry, and is never pulled.
    HttpResult again = t.push({bad});
    QCOMPARE(parseJson(again.body).find("rejected")->asArray()->size(), std::size_t{1});
    std::int64_t cursor = 0;
    for (const crdt::Op& op : t.pullAll(cursor)) QVERIFY(!(op.id == bad.id));
    // A device cannot put ops in the name of someone outside its clinic.
    chart.factory.setUser("dr-nobody");
    HttpResult stranger = t.push({chart.write(crdt::field::kLanguage, std::string("fr"))});
    QCOMPARE(stranger.status, 200);
    json::Value sv = parseJson(stranger.body);
    QCOMPARE(num(sv, "stored"), std::int64_t{0});
    QVERIFY(str((*sv.find("rejected")->asArray())[0], "reason").find("not a user of clinic demo") != std::string::npos);
    // The device list shows the flagged op.
    HttpResult devices = admin.get("/v1/admin/devices");
    QCOMPARE(devices.status, 200);
    bool found = false;
    json::Value deviceList = parseJson(devices.body);
    for (const json::Value& d : *deviceList.find("devices")->asArray()) {
      if (str(d, "id") == t.deviceId) {
        found = true;
        QCOMPARE(num(d, "future_clock_ops"), std::int64_t{1});
        QCOMPARE(num(d, "ops_pushed"), std::int64_t{2});
      }
    }
    QVERIFY(found);
  }

  void conflictIsListedAndResolvedByAnOp() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient a(m_server.url()), b(m_server.url());
    enrolAndLogin(a, m_server, issueCode(admin));
    enrolAndLogin(b, m_server, issueCode(admin));
    const std::string patient = "conflict-patient";
    Chart ca(a.replica, "nurse", patient), cb(b.replica, "nurse", patient);
    crdt::Op base = ca.write(crdt::field::kFamilyName, std::string("Nakamura"));
    QCOMPARE(a.push({base}).status, 200);
    cb.receive({base});
    // Both offline: two different birth dates for one patient.
    crdt::Op da = ca.write(crdt::field::kBirthDate, std::string("1950-03-01"));
    crdt::Op db = cb.write(crdt::field::kBirthDate, std::string("1950-01-03"));
    QCOMPARE(a.push({da}).status, 200);
    QCOMPARE(b.push({db}).status, 200);

    HttpResult list = admin.get("/v1/admin/conflicts?patient=" + patient);
    QVERIFY2(list.status == 200, list.body.c_str());
    json::Value lv = parseJson(list.body);
    const json::Array& conflicts = *lv.find("conflicts")->asArray();
    QCOMPARE(conflicts.size(), std::size_t{1});
    const json::Array& values = *conflicts[0].find("values")->asArray();
    QCOMPARE(values.size(), std::size_t{2});
    std::set<std::string> both{str(values[0], "value"), str(values[1], "value")};
    QVERIFY(both == (std::set<std::string>{"1950-03-01", "1950-01-03"}));
    QCOMPARE(QString::fromStdString(str(values[0], "author")), QStringLiteral("nurse"));
    std::string id = str(conflicts[0], "id");

    HttpResult noReason = admin.post("/v1/admin/conflicts/resolve", json::Object{{"id", id}, {"value", "1950-03-01"}, {"reason", ""}});
    QCOMPARE(noReason.status, 400);
    HttpResult resolved = admin.post("/v1/admin/conflicts/resolve",
                                     json::Object{{"id", id}, {"value", "1950-03-01"}, {"reason", "checked the passport"}});
    QVERIFY2(resolved.status == 200, resolved.body.c_str());
    HttpResult after = admin.get("/v1/admin/conflicts?patient=" + patient);
    QCOMPARE(parseJson(after.body).find("conflicts")->asArray()->size(), std::size_t{0});
    HttpResult twice = admin.post("/v1/admin/conflicts/resolve",
                                  json::Object{{"id", id}, {"value", "1950-01-03"}, {"reason", "again"}});
    QCOMPARE(twice.status, 404);

    // The resolution reaches the tablets as an op and settles their charts too.
    std::int64_t cursor = 0;
    ca.receive(a.pullAll(cursor));
    cursor = 0;
    cb.receive(b.pullAll(cursor));
    QVERIFY(ca.doc.conflicts().empty());
    QVERIFY(cb.doc.conflicts().empty());
    QVERIFY(ca.doc.stateHash() == cb.doc.stateHash());
    QVERIFY(ca.doc.demographic(crdt::field::kBirthDate).current().value == crdt::Value(std::string("1950-03-01")));
  }

  void movedPatientIsPurgedAndFetchedWhole() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    QVERIFY(admin.post("/v1/admin/clinics", json::Object{{"id", "east"}, {"name", "East clinic"}}).status == 201);
    QCOMPARE(admin.post("/v1/admin/users", json::Object{{"id", "east-nurse"},
                                                        {"role", "nurse"},
                                                        {"clinic", "east"},
                                                        {"password", "east-nurse-pass"}})
                 .status,
             201);
    TabletClient demo(m_server.url()), east(m_server.url());
    enrolAndLogin(demo, m_server, issueCode(admin));
    QCOMPARE(east.enrol(issueCode(admin, "east")).status, 200);
    QCOMPARE(east.login("east-nurse", "east-nurse-pass").status, 200);

    Chart chart(demo.replica, "nurse", "moving-patient");
    std::vector<crdt::Op> ops;
    for (int i = 0; i < 5; ++i) ops.push_back(chart.write(crdt::field::kAddress, "Street " + std::to_string(i)));
    QCOMPARE(demo.push(ops).status, 200);
    std::int64_t demoCursor = 0, eastCursor = 0;
    (void)demo.pullAll(demoCursor);
    for (const crdt::Op& op : east.pullAll(eastCursor)) QVERIFY(op.patient != "moving-patient");  // not east's

    QCOMPARE(admin.post("/v1/admin/patients/move", json::Object{{"patient", "moving-patient"}, {"clinic", "east"}}).status,
             200);
    // The old clinic's tablet is told to purge; the new one to fetch the whole chart.
    HttpResult d = demo.pullRaw(demoCursor);
    json::Value dv = parseJson(d.body);
    QCOMPARE(dv.find("purge")->asArray()->size(), std::size_t{1});
    QCOMPARE(QString::fromStdString(*(*dv.find("purge")->asArray())[0].asString()), QStringLiteral("moving-patient"));
    HttpResult e = east.pullRaw(eastCursor);
    json::Value ev = parseJson(e.body);
    QCOMPARE(ev.find("enter")->asArray()->size(), std::size_t{1});
    HttpResult whole = east.pullRaw(0, "&patient=moving-patient");
    QCOMPARE(whole.status, 200);
    QCOMPARE(parseJson(whole.body).find("ops")->asArray()->size(), std::size_t{5});
    // The old clinic can no longer fetch or push it.
    QCOMPARE(demo.pullRaw(0, "&patient=moving-patient").status, 404);
    HttpResult late = demo.push({chart.write(crdt::field::kPhone, std::string("555-0199"))});
    QCOMPARE(num(parseJson(late.body), "stored"), std::int64_t{0});
  }

  void deviceReportsShowInTheDeviceList() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient t(m_server.url());
    enrolAndLogin(t, m_server, issueCode(admin));
    HttpResult r = t.http.post("/v1/sync/report",
                               json::serialize(json::Object{{"pending_ops", 12}, {"last_error", "TLS handshake failed"}}),
                               t.auth());
    QCOMPARE(r.status, 200);
    HttpResult list = admin.get("/v1/admin/devices");
    json::Value lv = parseJson(list.body);
    bool found = false;
    for (const json::Value& d : *lv.find("devices")->asArray()) {
      if (str(d, "id") != t.deviceId) continue;
      found = true;
      QCOMPARE(num(d, "pending_ops"), std::int64_t{12});
      QCOMPARE(QString::fromStdString(str(d, "last_error")), QStringLiteral("TLS handshake failed"));
      QVERIFY(num(d, "last_seen_at") > 0);
      QCOMPARE(d.find("stale")->asBool().value_or(true), false);
    }
    QVERIFY(found);
  }

  void revokedDeviceIsToldToWipe() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient t(m_server.url());
    enrolAndLogin(t, m_server, issueCode(admin));
    QCOMPARE(t.pullRaw(0).status, 200);
    QCOMPARE(admin.post("/v1/admin/devices/" + t.deviceId + "/revoke", json::Object{}).status, 200);
    HttpResult r = t.pullRaw(0);
    QCOMPARE(r.status, 410);
    json::Value v = parseJson(r.body);
    QCOMPARE(v.find("wipe")->asBool().value_or(false), true);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("device_revoked"));
    QCOMPARE(t.login("nurse", "demo-nurse-pass").status, 410);
  }

  void badInputGetsAClearErrorAndNothingStored() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient t(m_server.url());
    enrolAndLogin(t, m_server, issueCode(admin));
    HttpClient c(m_server.url());
    struct Case {
      HttpResult r;
      int status;
      const char* code;
    };
    std::vector<Case> cases = {
        {c.post("/v1/login", "{\"username\":"), 400, "malformed"},
        {c.post("/v1/login", "[1,2]"), 400, "malformed"},
        {c.post("/v1/login", "{\"username\":\"nurse\",\"password\":\"x\",\"extra\":1}"), 400, "invalid"},
        {c.post("/v1/login", "{\"username\":7,\"password\":\"x\"}"), 400, "invalid"},
        {c.post("/v1/login", "{\"username\":\"a\",\"password\":\"b\"}", {}, "text/plain"), 415, "unsupported_media_type"},
        {c.get("/v1/sync/pull?since=0"), 401, "unauthenticated"},
        {c.get("/v1/sync/pull?since=0", {{"Authorization", "Bearer forged"}}), 401, "unauthenticated"},
        {c.get("/v1/sync/pull?since=0", {{"X-Charta-Device", t.deviceId + ":wrong"}}), 401, "unauthenticated"},
        {t.pullRaw(-1), 400, "invalid"},
        {t.pullRaw(0, "&bogus=1"), 400, "invalid"},
        {t.http.post("/v1/sync/push", "not an op batch", t.auth(), "application/x-charta-ops"), 400,
         "unsupported_version"},  // the first byte reads as a format version
        {t.http.post("/v1/sync/push", std::string("\x01\xff\xff\xff", 4), t.auth(), "application/x-charta-ops"), 400,
         "malformed"},
        {t.http.post("/v1/sync/push", "{}", t.auth(), "application/json"), 415, "unsupported_media_type"},
        {c.get("/v1/nothing-here"), 404, "not_found"},
        {c.request("DELETE", "/v1/sync/pull"), 405, "method_not_allowed"},
        {rawHttp("127.0.0.1", m_server.server->port(),
                 "POST /v1/enrol HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Connection: close\r\nContent-Length: 2097152\r\n\r\n" + std::string(2u << 20, 'x')),
         413, "body_too_large"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& k = cases[i];
      QVERIFY2(k.r.status == k.status,
               (std::to_string(i) + ": " + std::to_string(k.r.status) + " " + k.r.body + k.r.error).c_str());
      QVERIFY2(errorCode(k.r) == k.code, (std::to_string(i) + ": " + k.r.body).c_str());
      json::Value v = parseJson(k.r.body);
      QVERIFY(!str(*v.find("error"), "message").empty());
    }
    // A logged-out token is dead.
    QCOMPARE(t.http.post("/v1/logout", "", t.auth()).status, 200);
    QCOMPARE(t.pullRaw(0).status, 401);
    // The server still serves.
    QCOMPARE(c.get("/healthz").status, 200);
  }

  void loginIsThrottled() {
    AdminClient c(m_server.url());
    int last = 0;
    for (int i = 0; i < 6; ++i) last = c.login("admin", "wrong-password-" + std::to_string(i)).status;
    QCOMPARE(last, 429);
    HttpResult r = c.login("admin", "demo-admin-pass");  // even the right password waits
    QCOMPARE(r.status, 429);
    QVERIFY(r.header("retry-after") != nullptr);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("too_many_attempts"));
  }

  void auditChainDetectsTampering() {
    // A fresh server, so the throttled admin of the test above does not matter.
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient t(s.url());
    enrolAndLogin(t, s, issueCode(admin));
    Chart chart(t.replica, "nurse", "audited-patient");
    QCOMPARE(t.push({chart.write(crdt::field::kFamilyName, std::string("Audit"))}).status, 200);
    std::int64_t cursor = 0;
    (void)t.pullAll(cursor);

    HttpResult events = admin.get("/v1/admin/audit?patient=audited-patient");
    QCOMPARE(events.status, 200);
    std::set<std::string> actions;
    json::Value eventList = parseJson(events.body);
    for (const json::Value& e : *eventList.find("events")->asArray()) actions.insert(str(e, "action"));
    QVERIFY(actions.count("op.receive"));
    QVERIFY(actions.count("chart.sync_read"));

    HttpResult ok = admin.post("/v1/admin/audit/verify", json::Object{});
    QCOMPARE(ok.status, 200);
    QCOMPARE(parseJson(ok.body).find("ok")->asBool().value_or(false), true);
    QVERIFY(num(parseJson(ok.body), "checked") > 5);

    // Someone edits an audit row behind the server's back.
    {
      auto db = kPostgres ? server::Database::openPostgres(s.config.postgres, 1)
                          : server::Database::openSqlite(s.config.data + "/charta.db", 1);
      QVERIFY(db.isOk());
      auto lease = db.value()->acquire();
      QVERIFY(lease.isOk());
      QVERIFY((*lease.value()).exec("UPDATE audit SET user_id = 'someone-else' WHERE seq = 3").isOk());
    }
    HttpResult broken = admin.post("/v1/admin/audit/verify", json::Object{});
    QCOMPARE(broken.status, 200);
    json::Value bv = parseJson(broken.body);
    QCOMPARE(bv.find("ok")->asBool().value_or(true), false);
    QCOMPARE(num(bv, "first_broken"), std::int64_t{3});
  }

  void deviceAuditEventsJoinTheChain() {
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    auto makeUser = [&](const char* id, const char* role, const char* clinic) {
      return admin
          .post("/v1/admin/users",
                json::Object{{"id", id}, {"role", role}, {"clinic", clinic}, {"password", "a-long-password-1"}})
          .status;
    };
    QCOMPARE(admin.post("/v1/admin/clinics", json::Object{{"id", "other"}, {"name", "Other clinic"}}).status, 201);
    QCOMPARE(makeUser("ward-nurse", "nurse", "demo"), 201);
    QCOMPARE(makeUser("ward-admin", "clinic_admin", "demo"), 201);
    QCOMPARE(makeUser("other-nurse", "nurse", "other"), 201);
    TabletClient t(s.url());
    enrolAndLogin(t, s, issueCode(admin));

    // A shared tablet, offline: two nurses read charts, one breaks the glass, an unlock fails.
    json::Array batch{
        deviceAuditEvent(1, "nurse", "chart.read", "p-17", "{\"section\":\"allergies\"}"),
        deviceAuditEvent(2, "ward-nurse", "break_glass", "p-18", "{\"reason\":\"unconscious on arrival\"}"),
        deviceAuditEvent(3, "ward-nurse", "unlock.failed")};
    HttpResult r = t.uploadAudit(batch);
    QVERIFY2(r.status == 200, r.body.c_str());
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{3});

    std::vector<json::Value> rows = deviceRows(admin, t.deviceId);
    QCOMPARE(rows.size(), std::size_t{3});
    const char* actions[] = {"tablet.chart.read", "tablet.break_glass", "tablet.unlock.failed"};
    const char* users[] = {"nurse", "ward-nurse", "ward-nurse"};
    const char* patients[] = {"p-17", "p-18", ""};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const json::Value& row = rows[i];
      QCOMPARE(QString::fromStdString(str(row, "action")), QString(actions[i]));
      QCOMPARE(QString::fromStdString(str(row, "user")), QString(users[i]));
      QCOMPARE(QString::fromStdString(str(row, "patient")), QString(patients[i]));
      QCOMPARE(QString::fromStdString(str(row, "device")), QString::fromStdString(t.deviceId));
      QCOMPARE(QString::fromStdString(str(row, "clinic")), QStringLiteral("demo"));
      const json::Value* detail = row.find("detail");
      QVERIFY(detail && detail->isObject());
      QCOMPARE(num(*detail, "device_seq"), static_cast<std::int64_t>(i + 1));
      QCOMPARE(num(*detail, "device_at"), num(batch[i], "at"));
      QCOMPARE(QString::fromStdString(str(*detail, "uploaded_by")), QStringLiteral("nurse"));
      QVERIFY(detail->find("detail") && detail->find("detail")->isObject());
    }
    QCOMPARE(QString::fromStdString(str(*rows[0].find("detail")->find("detail"), "section")),
             QStringLiteral("allergies"));
    QCOMPARE(QString::fromStdString(str(*rows[1].find("detail")->find("detail"), "reason")),
             QStringLiteral("unconscious on arrival"));
    QVERIFY(chainVerifies(admin));

    // A retry after a lost answer stores nothing twice; an overlapping batch
    // stores only what is new; an empty one tells what the server holds.
    r = t.uploadAudit(batch);
    QCOMPARE(r.status, 200);
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{3});
    QCOMPARE(deviceRows(admin, t.deviceId).size(), std::size_t{3});
    r = t.uploadAudit(json::Array{batch[2], deviceAuditEvent(4, "nurse", "chart.read", "p-19")});
    QCOMPARE(r.status, 200);
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{4});
    QCOMPARE(deviceRows(admin, t.deviceId).size(), std::size_t{4});
    r = t.uploadAudit(json::Array{});
    QCOMPARE(r.status, 200);
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{4});

    // A gap is refused, naming the seq the server expects.
    r = t.uploadAudit(json::Array{deviceAuditEvent(6, "nurse", "chart.read")});
    QCOMPARE(r.status, 400);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("invalid"));
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{4});
    QVERIFY2(r.body.find("expected 5") != std::string::npos, r.body.c_str());

    // Bad batches are refused whole: nothing of them is stored.
    auto withMember = [](json::Value e, const char* key, json::Value v) {
      e.set(key, std::move(v));
      return e;
    };
    json::Value good = deviceAuditEvent(5, "nurse", "chart.read", "p-20");
    struct Bad {
      const char* why;
      json::Array events;
    };
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += "{\"a\":";
    deep += "{}" + std::string(40, '}');
    std::vector<Bad> bad = {
        {"a user of another clinic", {deviceAuditEvent(5, "other-nurse", "chart.read")}},
        {"a valid event, then one by another clinic's user", {good, deviceAuditEvent(6, "other-nurse", "chart.read")}},
        {"a sysadmin", {deviceAuditEvent(5, "admin", "chart.read")}},
        {"an unknown user", {deviceAuditEvent(5, "nobody-here", "chart.read")}},
        {"an empty user", {deviceAuditEvent(5, "", "chart.read")}},
        {"an action in capitals", {deviceAuditEvent(5, "nurse", "Chart.Read")}},
        {"an empty action", {deviceAuditEvent(5, "nurse", "")}},
        {"an action with a space", {deviceAuditEvent(5, "nurse", "chart read")}},
        {"an action of 65 characters", {deviceAuditEvent(5, "nurse", std::string(65, 'a'))}},
        {"detail that is not JSON", {deviceAuditEvent(5, "nurse", "chart.read", "", "{not json")}},
        {"detail that is an array", {deviceAuditEvent(5, "nurse", "chart.read", "", "[1]")}},
        {"detail that is a string", {deviceAuditEvent(5, "nurse", "chart.read", "", "\"text\"")}},
        {"detail over 4096 bytes",
         {deviceAuditEvent(5, "nurse", "chart.read", "", "{\"x\":\"" + std::string(4090, 'x') + "\"}")}},
        {"detail nested 40 deep", {deviceAuditEvent(5, "nurse", "chart.read", "", deep)}},
        {"detail as an object, not a string", {withMember(good, "detail", json::Object{{"a", 1}})}},
        {"a patient id over 256 bytes", {withMember(good, "patient", std::string(257, 'p'))}},
        {"an unknown member", {withMember(good, "location", "ward 3")}},
        {"a missing seq", {[&] {
           json::Value e = good;
           json::Object& o = *e.asObject();
           o.erase(o.begin());
           return e;
         }()}},
        {"seq 0", {withMember(good, "seq", 0)}},
        {"a negative time", {withMember(good, "at", -1)}},
        {"seqs that skip", {good, deviceAuditEvent(7, "nurse", "chart.read")}},
        {"seqs that repeat", {good, deviceAuditEvent(5, "nurse", "chart.read")}},
        {"seqs that descend", {good, deviceAuditEvent(4, "nurse", "chart.read")}},
        {"an event that is not an object", {json::Value("chart.read")}},
    };
    for (const Bad& b : bad) {
      HttpResult br = t.uploadAudit(b.events);
      QVERIFY2(br.status == 400 && errorCode(br) == "invalid", (std::string(b.why) + ": " + br.body).c_str());
      QVERIFY2(!str(*parseJson(br.body).find("error"), "message").empty(), b.why);
    }
    HttpClient c(s.url());
    const std::string one = json::serialize(json::Object{{"events", json::Array{good}}});
    struct Raw {
      const char* why;
      std::string body;
      int status;
      const char* code;
    };
    json::Array tooMany;
    for (int i = 0; i < 1001; ++i) tooMany.push_back(deviceAuditEvent(5 + i, "nurse", "chart.read"));
    for (const Raw& raw : std::vector<Raw>{
             {"no events member", "{}", 400, "invalid"},
             {"events that are not an array", "{\"events\":{}}", 400, "invalid"},
             {"an unknown member", "{\"events\":[],\"device\":\"x\"}", 400, "invalid"},
             {"not JSON", "{\"events\":", 400, "malformed"},
             {"1001 events", json::serialize(json::Object{{"events", tooMany}}), 413, "too_many_events"}}) {
      HttpResult rr = c.post("/v1/sync/audit", raw.body, t.auth());
      QVERIFY2(rr.status == raw.status && errorCode(rr) == raw.code, (std::string(raw.why) + ": " + rr.body).c_str());
    }
    QCOMPARE(c.post("/v1/sync/audit", one, t.auth(), "text/plain").status, 415);
    QCOMPARE(deviceRows(admin, t.deviceId).size(), std::size_t{4});

    // Who may upload: a nurse or clinic admin of the device's clinic, on the device.
    HeaderList sysOnDevice = t.deviceHeader();
    sysOnDevice.emplace_back("Authorization", "Bearer " + admin.token);
    QCOMPARE(c.post("/v1/sync/audit", one).status, 401);
    QCOMPARE(c.post("/v1/sync/audit", one, t.deviceHeader()).status, 401);
    QCOMPARE(c.post("/v1/sync/audit", one, admin.auth()).status, 401);
    QCOMPARE(c.post("/v1/sync/audit", one, sysOnDevice).status, 403);
    AdminClient wardAdmin(s.url());
    QCOMPARE(wardAdmin.login("ward-admin", "a-long-password-1").status, 200);
    QCOMPARE(c.post("/v1/sync/audit", one, wardAdmin.auth()).status, 401);
    QCOMPARE(deviceRows(admin, t.deviceId).size(), std::size_t{4});
    TabletClient sameTablet(s.url());
    sameTablet.deviceId = t.deviceId;
    sameTablet.secret = t.secret;
    QCOMPARE(sameTablet.login("ward-admin", "a-long-password-1").status, 200);
    r = sameTablet.uploadAudit(json::Array{good});
    QVERIFY2(r.status == 200, r.body.c_str());
    QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{5});
    rows = deviceRows(admin, t.deviceId);
    QCOMPARE(rows.size(), std::size_t{5});
    QCOMPARE(QString::fromStdString(str(rows[4], "user")), QStringLiteral("nurse"));
    QCOMPARE(QString::fromStdString(str(*rows[4].find("detail"), "uploaded_by")), QStringLiteral("ward-admin"));

    HttpResult m = c.get("/metrics");
    QVERIFY2(m.body.find("\ncharta_device_audit_events_total 5\n") != std::string::npos, m.body.c_str());
    QVERIFY(chainVerifies(admin));

    // A revoked device is told to wipe, as on every sync call.
    QCOMPARE(admin.post("/v1/admin/devices/" + t.deviceId + "/revoke", json::Object{}).status, 200);
    QCOMPARE(t.uploadAudit(json::Array{deviceAuditEvent(6, "nurse", "chart.read")}).status, 410);
  }

  // A store made before device audit uploads existed (no device_audit table)
  // gets the table when it opens, with the same schema version.
  void deviceAuditWorksOnAnOlderStore() {
    TestServer s;
    startServer(s);
    restartAfter(s, {"DROP TABLE device_audit"});
    if (QTest::currentTestFailed()) return;
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    TabletClient t(s.url());
    enrolAndLogin(t, s, issueCode(admin));
    json::Array batch{deviceAuditEvent(1, "nurse", "unlock")};
    for (int i = 0; i < 2; ++i) {
      HttpResult r = t.uploadAudit(batch);
      QVERIFY2(r.status == 200, r.body.c_str());
      QCOMPARE(num(parseJson(r.body), "acked"), std::int64_t{1});
    }
    QCOMPARE(deviceRows(admin, t.deviceId).size(), std::size_t{1});
    QVERIFY(chainVerifies(admin));
    auto db = openStoreDirectly(s);
    QVERIFY(db);
    auto lease = db->acquire();
    QVERIFY(lease.isOk());
    auto version = (*lease.value()).query("SELECT value FROM meta WHERE key = 'schema_version'");
    QVERIFY(version.isOk() && version.value().size() == 1);
    QCOMPARE(QString::fromStdString(server::dbText(version.value()[0][0])), QString::number(server::kSchemaVersion));
  }

  void concurrentDevicesLoseNothing() {
    // A fresh server: loginIsThrottled has locked out "admin" on the shared one.
    TestServer s;
    startServer(s);
    AdminClient a2(s.url());
    QCOMPARE(a2.login("admin", "demo-admin-pass").status, 200);
    constexpr int kDevices = 8, kBatches = 10, kOps = 50;
    std::vector<std::unique_ptr<TabletClient>> tablets;
    for (int d = 0; d < kDevices; ++d) {
      tablets.push_back(std::make_unique<TabletClient>(s.url()));
      enrolAndLogin(*tablets.back(), s, issueCode(a2));
    }
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int d = 0; d < kDevices; ++d) {
      threads.emplace_back([&, d] {
        TabletClient& t = *tablets[static_cast<std::size_t>(d)];
        Chart chart(t.replica, "nurse", "shared-" + std::to_string(d % 3));
        for (int b = 0; b < kBatches; ++b) {
          std::vector<crdt::Op> ops;
          for (int i = 0; i < kOps; ++i) {
            crdt::AppendObservation obs;
            obs.category = crdt::ObservationCategory::kVitalSign;
            obs.code = std::string(crdt::loinc::kHeartRate);
            obs.value = 60.0 + i;
            obs.unit = "/min";
            crdt::Op op = chart.factory.appendObservation(chart.doc, obs);
            (void)chart.doc.apply(op);
            ops.push_back(op);
          }
          HttpResult r = t.push(ops);
          if (r.status != 200 || num(parseJson(r.body), "stored") != kOps) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(failures.load(), 0);
    std::int64_t cursor = 0;
    std::vector<crdt::Op> all = tablets[0]->pullAll(cursor);
    std::set<crdt::OpId> ids;
    for (const crdt::Op& op : all) ids.insert(op.id);
    QCOMPARE(static_cast<int>(ids.size()), kDevices * kBatches * kOps);
    QCOMPARE(static_cast<int>(all.size()), kDevices * kBatches * kOps);
  }
};

QTEST_GUILESS_MAIN(ApiTest)
#include "api_test.moc"
