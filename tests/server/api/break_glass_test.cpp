// Break-glass end to end (docs/PROTOCOL.md, "Break-glass"): a real
// charta-server on loopback with real storage (SQLite, or PostgreSQL when
// built with CHARTA_API_TEST_POSTGRES), a tablet of clinic demo that charts
// patients and a tablet of clinic east that looks them up.

#include <QtTest>

#include "api/api_fixture.h"

using namespace charta;
using namespace charta::test;

namespace {

HttpResult breakGlass(TabletClient& t, const json::Value& body) {
  return t.http.post("/v1/sync/break-glass", json::serialize(body), t.auth());
}

json::Value breakGlassBody(const std::string& identifier, const std::string& birthDate,
                           const std::string& reason = "unconscious on arrival, no carer") {
  return json::Object{{"identifier", identifier}, {"birth_date", birthDate}, {"reason", reason}};
}

// The ops of a break-glass answer, decoded; empty when one does not decode.
std::vector<crdt::Op> opsOf(const json::Value& answer) {
  std::vector<crdt::Op> out;
  const json::Value* ops = answer.find("ops");
  if (!ops || !ops->asArray()) return {};
  for (const json::Value& op : *ops->asArray()) {
    auto decoded = crdt::decodeOp(TabletClient::server_base64(op.asString() ? *op.asString() : ""));
    if (!decoded.isOk()) return {};
    out.push_back(decoded.value());
  }
  return out;
}

// A chart with a name, a birth date and one identifier; returns its ops and
// sets `identifierEntry` to the identifier's entry id.
std::vector<crdt::Op> chartWithIdentifier(Chart& chart, const std::string& family, const std::string& birthDate,
                                          const std::string& identifier, crdt::OpId* identifierEntry = nullptr) {
  std::vector<crdt::Op> ops;
  ops.push_back(chart.write(crdt::field::kFamilyName, family));
  ops.push_back(chart.write(crdt::field::kBirthDate, birthDate));
  crdt::Op id = chart.factory.addEntry(
      chart.doc, crdt::Collection::kIdentifiers,
      {{crdt::field::kIdentifierSystem, std::string("urn:charta:mrn")}, {crdt::field::kIdentifierValue, identifier}});
  (void)chart.doc.apply(id);
  ops.push_back(id);
  if (identifierEntry) *identifierEntry = id.id;
  return ops;
}

}  // namespace

class BreakGlassTest : public ApiFixture {
  Q_OBJECT

  // A second clinic "east" with two nurses.
  void makeEastClinic(AdminClient& admin) {
    QCOMPARE(admin.post("/v1/admin/clinics", json::Object{{"id", "east"}, {"name", "East clinic"}}).status, 201);
    for (const char* id : {"east-nurse", "east-nurse-2"}) {
      QCOMPARE(
          admin
              .post("/v1/admin/users",
                    json::Object{{"id", id}, {"role", "nurse"}, {"clinic", "east"}, {"password", "east-nurse-pass"}})
              .status,
          201);
    }
  }

  // The sysadmin signed in, clinic east, a demo tablet signed in as nurse
  // and an east tablet signed in as east-nurse.
  void startTwoClinics(TestServer& s, AdminClient& admin, TabletClient& demo, TabletClient& east) {
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    makeEastClinic(admin);
    enrolAndLogin(demo, s, issueCode(admin));
    QCOMPARE(east.enrol(issueCode(admin, "east")).status, 200);
    QCOMPARE(east.login("east-nurse", "east-nurse-pass").status, 200);
  }

 private slots:
  // A nurse of clinic east finds, by identifier and birth date, a patient of
  // clinic demo she has never synced: a read-only copy of the whole chart,
  // audited with her reason. Every way of asking wrongly is refused and
  // nothing is handed out.
  void breakGlassOpensAChartOfAnotherClinic() {
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    TabletClient demo(s.url()), east(s.url());
    startTwoClinics(s, admin, demo, east);
    if (QTest::currentTestFailed()) return;

    Chart chart(demo.replica, "nurse", "bg-patient");
    std::vector<crdt::Op> written = chartWithIdentifier(chart, "Okonkwo", "1961-07-30", "MRN-55501");
    written.push_back(chart.write(crdt::field::kGivenNames, std::string("Adaeze")));
    HttpResult pushed = demo.push(written);
    QVERIFY2(pushed.status == 200 && num(parseJson(pushed.body), "stored") == 4, pushed.body.c_str());

    // Typed in another case, with spaces and without the dash.
    std::int64_t before = QDateTime::currentMSecsSinceEpoch();
    HttpResult r = breakGlass(east, breakGlassBody("  mrn 55501 ", "1961-07-30"));
    QVERIFY2(r.status == 200, r.body.c_str());
    json::Value v = parseJson(r.body);
    QCOMPARE(QString::fromStdString(str(v, "patient")), QStringLiteral("bg-patient"));
    QCOMPARE(QString::fromStdString(str(v, "clinic")), QStringLiteral("demo"));
    QCOMPARE(v.find("in_scope")->asBool().value_or(true), false);
    QVERIFY(num(v, "head") >= 4);
    const std::int64_t ttl = 43200LL * 1000;
    QVERIFY2(num(v, "expires_at") >= before + ttl && num(v, "expires_at") <= QDateTime::currentMSecsSinceEpoch() + ttl,
             r.body.c_str());
    std::vector<crdt::Op> copy = opsOf(v);
    QCOMPARE(copy.size(), written.size());
    crdt::ChartDocument rebuilt("bg-patient");
    for (const crdt::Op& op : copy) QVERIFY(rebuilt.apply(op).isOk());
    QVERIFY(rebuilt.demographic(crdt::field::kFamilyName).current().value == crdt::Value(std::string("Okonkwo")));
    QVERIFY(rebuilt.demographic(crdt::field::kGivenNames).current().value == crdt::Value(std::string("Adaeze")));
    QVERIFY(rebuilt.stateHash() == chart.doc.stateHash());

    // The access is in the chain, with who, the reason and the patient's clinic.
    std::vector<json::Value> glass = auditOf(admin, "chart.break_glass");
    QCOMPARE(glass.size(), std::size_t{1});
    QCOMPARE(QString::fromStdString(str(glass[0], "patient")), QStringLiteral("bg-patient"));
    QCOMPARE(QString::fromStdString(str(glass[0], "user")), QStringLiteral("east-nurse"));
    QCOMPARE(QString::fromStdString(str(glass[0], "device")), QString::fromStdString(east.deviceId));
    QCOMPARE(QString::fromStdString(str(glass[0], "clinic")), QStringLiteral("east"));
    QCOMPARE(QString::fromStdString(str(*glass[0].find("detail"), "reason")),
             QStringLiteral("unconscious on arrival, no carer"));
    QCOMPARE(QString::fromStdString(str(*glass[0].find("detail"), "patient_clinic")), QStringLiteral("demo"));
    QVERIFY(chainVerifies(admin));

    // The copy is read-only: an op for the patient from east's tablet is not stored.
    Chart eastChart(east.replica, "east-nurse", "bg-patient");
    eastChart.receive(copy);
    HttpResult edit = east.push({eastChart.write(crdt::field::kPhone, std::string("555-0142"))});
    QCOMPARE(edit.status, 200);
    json::Value ev = parseJson(edit.body);
    QCOMPARE(num(ev, "stored"), std::int64_t{0});
    QCOMPARE(ev.find("rejected")->asArray()->size(), std::size_t{1});
    QVERIFY2(
        str((*ev.find("rejected")->asArray())[0], "reason").find("not in this device's clinic") != std::string::npos,
        edit.body.c_str());
    // And east's pulls still do not carry it.
    std::int64_t cursor = 0;
    for (const crdt::Op& op : east.pullAll(cursor)) QVERIFY(op.patient != "bg-patient");

    // A wrong birth date finds nobody, and the refusal is audited.
    HttpResult wrong = breakGlass(east, breakGlassBody("MRN-55501", "1961-07-31", "collapsed in the waiting room"));
    QCOMPARE(wrong.status, 404);
    QCOMPARE(QString::fromStdString(errorCode(wrong)), QStringLiteral("not_found"));
    QVERIFY(wrong.body.find("no patient has this identifier and birth date") != std::string::npos);
    std::vector<json::Value> refused = auditOf(admin, "chart.break_glass_refused");
    QCOMPARE(refused.size(), std::size_t{1});
    QCOMPARE(QString::fromStdString(str(refused[0], "patient")), QString());
    QCOMPARE(QString::fromStdString(str(refused[0], "user")), QStringLiteral("east-nurse"));
    QCOMPARE(QString::fromStdString(str(*refused[0].find("detail"), "identifier")), QStringLiteral("MRN-55501"));
    QCOMPARE(QString::fromStdString(str(*refused[0].find("detail"), "reason")),
             QStringLiteral("collapsed in the waiting room"));

    // Bad input: 400 naming the member, nothing audited, nothing handed out.
    struct Bad {
      const char* why;
      std::string body;
      const char* member;
    };
    auto without = [](const char* key) {
      json::Value b = breakGlassBody("MRN-55501", "1961-07-30");
      json::Object& o = *b.asObject();
      for (auto it = o.begin(); it != o.end(); ++it) {
        if (it->first == key) {
          o.erase(it);
          break;
        }
      }
      return json::serialize(b);
    };
    auto with = [](const char* key, json::Value value) {
      json::Value b = breakGlassBody("MRN-55501", "1961-07-30");
      b.set(key, std::move(value));
      return json::serialize(b);
    };
    std::vector<Bad> bad = {
        {"no reason", without("reason"), "reason"},
        {"a reason of 4 characters once trimmed", with("reason", "  sick \t"), "reason"},
        {"a reason of spaces", with("reason", "          "), "reason"},
        {"a reason over 1000 bytes", with("reason", std::string(1001, 'r')), "reason"},
        {"a reason that is not a string", with("reason", 12345), "reason"},
        {"no birth date", without("birth_date"), "birth_date"},
        {"a birth date that is not a day", with("birth_date", "1961-02-29"), "birth_date"},
        {"a birth date with a month 13", with("birth_date", "1961-13-01"), "birth_date"},
        {"a birth date in another form", with("birth_date", "30/07/1961"), "birth_date"},
        {"a birth date without leading zeros", with("birth_date", "1961-7-30"), "birth_date"},
        {"a birth date with a time", with("birth_date", "1961-07-30T00:00"), "birth_date"},
        {"no identifier", without("identifier"), "identifier"},
        {"an empty identifier", with("identifier", ""), "identifier"},
        {"an identifier of dashes", with("identifier", " - - "), "identifier"},
        {"an identifier over 256 bytes", with("identifier", std::string(257, '5')), "identifier"},
        {"an unknown member", with("clinic", "demo"), "clinic"},
    };
    for (const Bad& b : bad) {
      HttpResult br = east.http.post("/v1/sync/break-glass", b.body, east.auth());
      QVERIFY2(br.status == 400 && errorCode(br) == "invalid", (std::string(b.why) + ": " + br.body).c_str());
      std::string message = str(*parseJson(br.body).find("error"), "message");
      QVERIFY2(message.find(b.member) != std::string::npos, (std::string(b.why) + ": " + message).c_str());
    }
    QCOMPARE(east.http.post("/v1/sync/break-glass", "{\"identifier\":", east.auth()).status, 400);
    QCOMPARE(east.http
                 .post("/v1/sync/break-glass", json::serialize(breakGlassBody("MRN-55501", "1961-07-30")), east.auth(),
                       "text/plain")
                 .status,
             415);
    QCOMPARE(auditOf(admin, "chart.break_glass").size(), std::size_t{1});
    QCOMPARE(auditOf(admin, "chart.break_glass_refused").size(), std::size_t{1});
    // A 29 February that exists.
    QCOMPARE(breakGlass(east, breakGlassBody("MRN-55501", "1960-02-29")).status, 404);

    // Who may ask: as for every sync call.
    HttpClient c(s.url());
    const std::string body = json::serialize(breakGlassBody("MRN-55501", "1961-07-30"));
    HeaderList sysOnDevice = east.deviceHeader();
    sysOnDevice.emplace_back("Authorization", "Bearer " + admin.token);
    QCOMPARE(c.post("/v1/sync/break-glass", body).status, 401);
    QCOMPARE(c.post("/v1/sync/break-glass", body, east.deviceHeader()).status, 401);
    QCOMPARE(c.post("/v1/sync/break-glass", body, admin.auth()).status, 401);
    QCOMPARE(c.post("/v1/sync/break-glass", body, sysOnDevice).status, 403);
    QCOMPARE(c.request("GET", "/v1/sync/break-glass", "", east.auth()).status, 405);
    QCOMPARE(auditOf(admin, "chart.break_glass").size(), std::size_t{1});

    // A patient of the device's own clinic: the tablet holds it already.
    HttpResult own = breakGlass(demo, breakGlassBody("mrn-55501", "1961-07-30", "checking the right chart"));
    QVERIFY2(own.status == 200, own.body.c_str());
    json::Value ov = parseJson(own.body);
    QCOMPARE(QString::fromStdString(str(ov, "patient")), QStringLiteral("bg-patient"));
    QCOMPARE(QString::fromStdString(str(ov, "clinic")), QStringLiteral("demo"));
    QCOMPARE(ov.find("in_scope")->asBool().value_or(false), true);
    QCOMPARE(ov.find("ops")->asArray()->size(), std::size_t{0});
    QCOMPARE(num(ov, "expires_at"), std::int64_t{0});
    QVERIFY(num(ov, "head") >= 4);
    std::vector<json::Value> lookups = auditOf(admin, "chart.lookup");
    QCOMPARE(lookups.size(), std::size_t{1});
    QCOMPARE(QString::fromStdString(str(lookups[0], "patient")), QStringLiteral("bg-patient"));
    QCOMPARE(auditOf(admin, "chart.break_glass").size(), std::size_t{1});

    // Two patients with the same identifier and birth date: nobody is shown.
    Chart twin(demo.replica, "nurse", "bg-twin", 1000);
    crdt::OpId twinIdentifier;
    QCOMPARE(demo.push(chartWithIdentifier(twin, "Okonkwo", "1961-07-30", "MRN55501", &twinIdentifier)).status, 200);
    HttpResult two = breakGlass(east, breakGlassBody("MRN-55501", "1961-07-30"));
    QCOMPARE(two.status, 409);
    QCOMPARE(QString::fromStdString(errorCode(two)), QStringLiteral("ambiguous"));
    QVERIFY(two.body.find("ask the clinic") != std::string::npos);
    QVERIFY(two.body.find("bg-") == std::string::npos);
    QCOMPARE(auditOf(admin, "chart.break_glass_refused").size(), std::size_t{3});
    QCOMPARE(auditOf(admin, "chart.break_glass").size(), std::size_t{1});

    // The twin's identifier was a typo: marked entered-in-error, it no longer matches.
    crdt::Op retract =
        twin.factory.setStatus(twin.doc, twinIdentifier, crdt::EntryStatus::kEnteredInError, "typed the wrong MRN");
    (void)twin.doc.apply(retract);
    QCOMPARE(num(parseJson(demo.push({retract}).body), "stored"), std::int64_t{1});
    HttpResult one = breakGlass(east, breakGlassBody("MRN-55501", "1961-07-30"));
    QVERIFY2(one.status == 200, one.body.c_str());
    QCOMPARE(QString::fromStdString(str(parseJson(one.body), "patient")), QStringLiteral("bg-patient"));
    QVERIFY(chainVerifies(admin));

    // A revoked device is told to wipe.
    QCOMPARE(admin.post("/v1/admin/devices/" + east.deviceId + "/revoke", json::Object{}).status, 200);
    QCOMPARE(breakGlass(east, breakGlassBody("MRN-55501", "1961-07-30")).status, 410);
  }

  // Lookups that find nobody are throttled per user like failed sign-ins, so
  // identifiers cannot be tried one after another.
  void breakGlassNotFoundIsThrottled() {
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    TabletClient demo(s.url()), east(s.url());
    startTwoClinics(s, admin, demo, east);
    if (QTest::currentTestFailed()) return;
    Chart chart(demo.replica, "nurse", "bg-throttled");
    QCOMPARE(demo.push(chartWithIdentifier(chart, "Mensah", "1990-01-15", "NHI-4242")).status, 200);

    // login_max_failures (5) free, then 1 s, 2 s, 4 s... between attempts.
    int guess = 1000;
    auto tryOne = [&] { return breakGlass(east, breakGlassBody("NHI-" + std::to_string(guess++), "1990-01-15")); };
    for (int i = 0; i < 5; ++i) QCOMPARE(tryOne().status, 404);
    HttpResult r = tryOne();
    QCOMPARE(r.status, 429);
    QVERIFY(r.header("retry-after") != nullptr);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("too_many_attempts"));
    // Two more failures after waiting, so the delay (4 s) outlasts the checks below.
    for (int wait : {1, 2}) {
      QTest::qWait(wait * 1000 + 100);
      QCOMPARE(tryOne().status, 404);
      QCOMPARE(tryOne().status, 429);
    }
    // Even a lookup that would succeed waits.
    r = breakGlass(east, breakGlassBody("NHI-4242", "1990-01-15"));
    QCOMPARE(r.status, 429);
    const std::string retryAfter = r.header("retry-after") ? *r.header("retry-after") : std::string();
    QVERIFY2(retryAfter == "4" || retryAfter == "3", retryAfter.c_str());
    QCOMPARE(auditOf(admin, "chart.break_glass").size(), std::size_t{0});
    QCOMPARE(auditOf(admin, "chart.break_glass_refused").size(), std::size_t{7});
    // Signing in again does not clear it.
    QCOMPARE(east.login("east-nurse", "east-nurse-pass").status, 200);
    QCOMPARE(breakGlass(east, breakGlassBody("NHI-4242", "1990-01-15")).status, 429);
    // It is the user's: another nurse on the same tablet is not held up.
    TabletClient sameTablet(s.url());
    sameTablet.deviceId = east.deviceId;
    sameTablet.secret = east.secret;
    QCOMPARE(sameTablet.login("east-nurse-2", "east-nurse-pass").status, 200);
    HttpResult other = breakGlass(sameTablet, breakGlassBody("NHI-4242", "1990-01-15"));
    QVERIFY2(other.status == 200, other.body.c_str());
    QCOMPARE(QString::fromStdString(str(parseJson(other.body), "patient")), QStringLiteral("bg-throttled"));
  }

  // A store made before break-glass existed has charts but no keys: they are
  // built from the op log when the server starts, or at the first break-glass
  // when they went missing under a running server.
  void breakGlassKeysAreBuiltForAnOlderStore() {
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    makeEastClinic(admin);
    TabletClient demo(s.url());
    enrolAndLogin(demo, s, issueCode(admin));
    Chart chart(demo.replica, "nurse", "bg-old");
    crdt::OpId retired;
    std::vector<crdt::Op> ops = chartWithIdentifier(chart, "Adeyemi", "1948-11-02", "OLD-1", &retired);
    crdt::Op second = chart.factory.addEntry(chart.doc, crdt::Collection::kIdentifiers,
                                             {{crdt::field::kIdentifierValue, std::string("NEW 2")}});
    (void)chart.doc.apply(second);
    ops.push_back(second);
    crdt::Op retire = chart.factory.setStatus(chart.doc, retired, crdt::EntryStatus::kInactive, "replaced");
    (void)chart.doc.apply(retire);
    ops.push_back(retire);
    QCOMPARE(demo.push(ops).status, 200);

    auto keyRows = [&]() -> std::vector<std::string> {
      auto db = openStoreDirectly(s);
      if (!db) return {"no store"};
      auto lease = db->acquire();
      if (!lease.isOk()) return {"no connection"};
      auto rows = (*lease.value()).query("SELECT key FROM patient_keys WHERE patient_id = 'bg-old' ORDER BY key");
      if (!rows.isOk()) return {rows.status().toString()};
      std::vector<std::string> out;
      for (const server::DbRow& r : rows.value()) out.push_back(server::dbText(r[0]));
      auto marker = (*lease.value()).query("SELECT value FROM meta WHERE key = 'patient_keys'");
      if (!marker.isOk() || marker.value().size() != 1) out.push_back("no marker");
      return out;
    };
    const std::vector<std::string> want{"1948-11-02|new2"};
    QVERIFY(keyRows() == want);

    // The table of an older store: none (and no marker).
    restartAfter(s, {"DROP TABLE patient_keys", "DELETE FROM meta WHERE key = 'patient_keys'"});
    if (QTest::currentTestFailed()) return;
    // Clients made anew (their sessions and credentials kept): connections
    // kept alive to the stopped server are closed.
    AdminClient admin2(s.url());
    admin2.token = admin.token;
    TabletClient demo2(s.url());
    demo2.deviceId = demo.deviceId;
    demo2.secret = demo.secret;
    demo2.replica = demo.replica;
    demo2.clinic = demo.clinic;
    demo2.token = demo.token;
    QVERIFY(keyRows() == want);
    TabletClient east(s.url());
    QCOMPARE(east.enrol(issueCode(admin2, "east")).status, 200);
    QCOMPARE(east.login("east-nurse", "east-nurse-pass").status, 200);
    HttpResult r = breakGlass(east, breakGlassBody("new-2", "1948-11-02"));
    QVERIFY2(r.status == 200, r.body.c_str());
    QCOMPARE(opsOf(parseJson(r.body)).size(), ops.size());
    QCOMPARE(breakGlass(east, breakGlassBody("OLD-1", "1948-11-02")).status, 404);  // inactive

    // Keys lost under a running server: the next break-glass builds them.
    {
      auto db = openStoreDirectly(s);
      QVERIFY(db);
      auto lease = db->acquire();
      QVERIFY(lease.isOk());
      QVERIFY((*lease.value()).exec("DELETE FROM patient_keys").isOk());
      QVERIFY((*lease.value()).exec("DELETE FROM meta WHERE key = 'patient_keys'").isOk());
    }
    r = breakGlass(east, breakGlassBody("NEW2", "1948-11-02"));
    QVERIFY2(r.status == 200, r.body.c_str());
    QCOMPARE(QString::fromStdString(str(parseJson(r.body), "patient")), QStringLiteral("bg-old"));
    QVERIFY(keyRows() == want);

    // An identifier corrected by an edit is found by its new value only.
    crdt::Op corrected = chart.factory.writeField(
        chart.doc, crdt::FieldRef{crdt::Collection::kIdentifiers, second.id, crdt::field::kIdentifierValue},
        std::string("NEW 3"));
    (void)chart.doc.apply(corrected);
    QCOMPARE(num(parseJson(demo2.push({corrected}).body), "stored"), std::int64_t{1});
    QVERIFY(keyRows() == std::vector<std::string>{"1948-11-02|new3"});
    QCOMPARE(breakGlass(east, breakGlassBody("NEW 3", "1948-11-02")).status, 200);
    QCOMPARE(breakGlass(east, breakGlassBody("NEW 2", "1948-11-02")).status, 404);
    QVERIFY(chainVerifies(admin2));
  }
};

QTEST_GUILESS_MAIN(BreakGlassTest)
#include "break_glass_test.moc"
