// The sysadmin console's server side end to end, over real HTTP on loopback
// (SQLite, or PostgreSQL when built with CHARTA_API_TEST_POSTGRES): its page
// and security headers, the cookie session and its CSRF token, the conflict
// inbox's filters and where each competing value came from, the activity of
// the last day and each audit row's chain status. The pages themselves are
// driven in headless Chromium by the browser suite (tests/browser).

#include <QtTest>
#include <set>

#include "api/api_fixture.h"

using namespace charta;
using namespace charta::test;

namespace {

// The cookie a console sign-in set: "charta_console=TOKEN".
std::string cookiePair(const HttpResult& r) {
  const std::string* c = r.header("set-cookie");
  if (!c) return {};
  return c->substr(0, c->find(';'));
}

std::int64_t nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

std::string encoded(const std::string& s) { return QUrl::toPercentEncoding(QString::fromStdString(s)).toStdString(); }

}  // namespace

class ConsoleTest : public ApiFixture {
  Q_OBJECT

 private:
  TestServer m_server;

  HttpResult consoleSignIn(HttpClient& http, const std::string& user, const std::string& password) {
    return http.post("/v1/console/session", json::serialize(json::Object{{"username", user}, {"password", password}}));
  }

  // Two tablets of the demo clinic write different birth dates for `patient`
  // while offline (or, with `allergy`, different criticalities of one of its
  // allergies); returns the two tablets' device ids.
  std::pair<std::string, std::string> makeConflict(AdminClient& admin, const std::string& patient,
                                                   bool allergy = false) {
    TabletClient a(m_server.url()), b(m_server.url());
    const std::string codeA = issueCode(admin), codeB = issueCode(admin);
    if (a.enrol(codeA, "Ward tablet A").status != 200 || b.enrol(codeB, "Ward tablet B").status != 200) return {};
    if (a.login("nurse", "demo-nurse-pass").status != 200 || b.login("nurse", "demo-nurse-pass").status != 200) {
      return {};
    }
    Chart ca(a.replica, "nurse", patient), cb(b.replica, "nurse", patient);
    crdt::Op base = ca.write(crdt::field::kFamilyName, std::string("Okafor"));
    if (a.push({base}).status != 200) return {};
    cb.receive({base});
    if (allergy) {
      crdt::Op entry = ca.factory.addEntry(ca.doc, crdt::Collection::kAllergies,
                                           {crdt::FieldValue{crdt::field::kDisplay, std::string("Penicillin")}});
      (void)ca.doc.apply(entry);
      cb.receive({entry});
      if (a.push({entry}).status != 200) return {};
      const crdt::FieldRef criticality{crdt::Collection::kAllergies, entry.id, crdt::field::kCriticality};
      crdt::Op high = ca.factory.writeField(ca.doc, criticality, std::string("high"));
      crdt::Op low = cb.factory.writeField(cb.doc, criticality, std::string("low"));
      if (a.push({high}).status != 200 || b.push({low}).status != 200) return {};
      return {a.deviceId, b.deviceId};
    }
    if (a.push({ca.write(crdt::field::kBirthDate, std::string("1961-04-02"))}).status != 200) return {};
    if (b.push({cb.write(crdt::field::kBirthDate, std::string("1961-02-04"))}).status != 200) return {};
    return {a.deviceId, b.deviceId};
  }

 private slots:
  void initTestCase() { startServer(m_server); }

  void pageAndAssetsComeFromTheServerUnderAStrictPolicy() {
    HttpClient http(m_server.url());
    HttpResult page = http.get("/admin");
    QCOMPARE(page.status, 200);
    QVERIFY(page.header("content-type")->rfind("text/html", 0) == 0);
    QVERIFY(page.body.find("/admin/console.js") != std::string::npos);
    const std::string* csp = page.header("content-security-policy");
    QVERIFY(csp);
    QVERIFY(csp->find("default-src 'none'") != std::string::npos);
    QVERIFY(csp->find("script-src 'self'") != std::string::npos);
    QVERIFY(csp->find("frame-ancestors 'none'") != std::string::npos);
    QVERIFY(csp->find("unsafe-inline") == std::string::npos);
    QCOMPARE(QString::fromStdString(*page.header("x-frame-options")), QStringLiteral("DENY"));
    QCOMPARE(http.get("/admin/").status, 200);
    for (const char* asset :
         {"/admin/console.js", "/admin/dom.js", "/admin/base.css", "/admin/console.css", "/admin/icon.svg"}) {
      HttpResult r = http.get(asset);
      QVERIFY2(r.status == 200 && !r.body.empty(), asset);
      QVERIFY(r.header("content-security-policy"));
    }
    QCOMPARE(http.get("/admin/console.js").header("content-type")->rfind("text/javascript", 0), std::size_t{0});
    HttpResult missing = http.get("/admin/..%2Fcharta.db");
    QCOMPARE(missing.status, 404);
    QCOMPARE(http.get("/admin/nothing.js").status, 404);
  }

  void onlySysadminsSignInToTheConsole() {
    HttpClient http(m_server.url());
    HttpResult ok = consoleSignIn(http, "admin", "demo-admin-pass");
    QVERIFY2(ok.status == 200, ok.body.c_str());
    const std::string* setCookie = ok.header("set-cookie");
    QVERIFY(setCookie);
    QVERIFY(setCookie->rfind("charta_console=", 0) == 0);
    QVERIFY(setCookie->find("HttpOnly") != std::string::npos);
    QVERIFY(setCookie->find("SameSite=Strict") != std::string::npos);
    QVERIFY(setCookie->find("Path=/") != std::string::npos);
    QVERIFY(setCookie->find("Secure") == std::string::npos);  // plain HTTP here; TLS adds it
    json::Value body = parseJson(ok.body);
    QCOMPARE(str(*body.find("user"), "role"), std::string("sysadmin"));
    QCOMPARE(str(body, "csrf").size(), std::size_t{64});
    QVERIFY(num(body, "expires_at") > nowMs());
    // The token is in the HttpOnly cookie only, never in the body.
    QVERIFY(ok.body.find(cookiePair(ok).substr(std::string("charta_console=").size())) == std::string::npos);

    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    QCOMPARE(admin
                 .post("/v1/admin/users", json::Object{{"id", "head-nurse"},
                                                       {"role", "clinic_admin"},
                                                       {"clinic", "demo"},
                                                       {"password", "head-nurse-pass"}})
                 .status,
             201);
    HttpResult clinicAdmin = consoleSignIn(http, "head-nurse", "head-nurse-pass");
    QCOMPARE(clinicAdmin.status, 403);
    QCOMPARE(errorCode(clinicAdmin), std::string("forbidden"));
    QVERIFY(clinicAdmin.body.find("the console is for sysadmins") != std::string::npos);
    QVERIFY(!clinicAdmin.header("set-cookie"));
    HttpResult wrong = consoleSignIn(http, "admin", "not-the-password");
    QCOMPARE(wrong.status, 401);
    QVERIFY(!wrong.header("set-cookie"));
    HttpResult unknown = consoleSignIn(http, "nobody", "whatever");
    QCOMPARE(unknown.status, 401);
    HttpResult bad = http.post("/v1/console/session", "{\"username\":\"admin\"}");
    QCOMPARE(bad.status, 400);

    // Each attempt is in the audit trail.
    std::set<std::string> actions;
    for (const json::Value& e : auditOf(admin, "auth.console_refused")) actions.insert(str(e, "user"));
    QVERIFY(actions.count("head-nurse"));
    QVERIFY(!auditOf(admin, "auth.console_login").empty());
  }

  void theCookieNeedsTheCsrfTokenToChangeAnything() {
    HttpClient http(m_server.url());
    HttpResult in = consoleSignIn(http, "admin", "demo-admin-pass");
    QCOMPARE(in.status, 200);
    const std::string cookie = cookiePair(in);
    const std::string csrf = str(parseJson(in.body), "csrf");
    const HeaderList withCookie{{"Cookie", "theme=dark; " + cookie + "; other=1"}};
    HeaderList withToken = withCookie;
    withToken.emplace_back("X-Charta-CSRF", csrf);
    HeaderList wrongToken = withCookie;
    wrongToken.emplace_back("X-Charta-CSRF", std::string(64, 'a'));

    // Reads need the cookie only.
    QCOMPARE(http.get("/v1/admin/clinics", withCookie).status, 200);
    QCOMPARE(http.get("/v1/admin/clinics").status, 401);
    HttpResult session = http.get("/v1/console/session", withCookie);
    QCOMPARE(session.status, 200);
    QCOMPARE(str(parseJson(session.body), "csrf"), csrf);

    // Changes need the token as well.
    const std::string codeBody = json::serialize(json::Object{{"clinic", "demo"}});
    HttpResult none = http.post("/v1/admin/enrolment-codes", codeBody, withCookie);
    QCOMPARE(none.status, 403);
    QCOMPARE(errorCode(none), std::string("csrf"));
    HttpResult wrong = http.post("/v1/admin/enrolment-codes", codeBody, wrongToken);
    QCOMPARE(wrong.status, 403);
    QCOMPARE(errorCode(wrong), std::string("csrf"));
    HttpResult good = http.post("/v1/admin/enrolment-codes", codeBody, withToken);
    QVERIFY2(good.status == 201, good.body.c_str());
    // A token of another console session does not fit this one.
    HttpClient other(m_server.url());
    HttpResult otherIn = consoleSignIn(other, "admin", "demo-admin-pass");
    HeaderList crossed = withCookie;
    crossed.emplace_back("X-Charta-CSRF", str(parseJson(otherIn.body), "csrf"));
    QCOMPARE(http.post("/v1/admin/enrolment-codes", codeBody, crossed).status, 403);
    // API clients with a bearer token have no cookie and need no CSRF token.
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    QCOMPARE(admin.post("/v1/admin/enrolment-codes", json::Object{{"clinic", "demo"}}).status, 201);

    // Garbage or unknown cookies are not a session.
    QCOMPARE(http.get("/v1/admin/clinics", {{"Cookie", "charta_console=not-a-token"}}).status, 401);
    QCOMPARE(http.get("/v1/console/session", {{"Cookie", "unrelated=1"}}).status, 401);
    // The console session endpoint is for the cookie, not for a bearer token.
    QCOMPARE(admin.get("/v1/console/session").status, 401);

    // Signing out needs the token, ends the session and clears the cookie.
    QCOMPARE(http.post("/v1/console/logout", "{}", withCookie).status, 403);
    HttpResult out = http.post("/v1/console/logout", "{}", withToken);
    QCOMPARE(out.status, 200);
    QVERIFY(out.header("set-cookie")->find("Max-Age=0") != std::string::npos);
    QCOMPARE(http.get("/v1/console/session", withCookie).status, 401);
    QCOMPARE(http.get("/v1/admin/clinics", withCookie).status, 401);
    QVERIFY(!auditOf(admin, "auth.console_logout").empty());
  }

  void conflictInboxFiltersAndShowsWhereEachValueCameFrom() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    const std::int64_t before = nowMs();
    auto [deviceA, deviceB] = makeConflict(admin, "inbox-patient-1");
    QVERIFY(!deviceA.empty());
    QVERIFY(!makeConflict(admin, "inbox-patient-2").first.empty());

    HttpResult all = admin.get("/v1/admin/conflicts?patient=inbox-patient-1");
    QVERIFY2(all.status == 200, all.body.c_str());
    json::Value av = parseJson(all.body);
    QCOMPARE(num(av, "total"), std::int64_t{1});
    const json::Value& conflict = (*av.find("conflicts")->asArray())[0];
    const std::string id = str(conflict, "id");
    const std::string path = str(conflict, "path");
    std::set<std::string> devices, names;
    for (const json::Value& v : *conflict.find("values")->asArray()) {
      devices.insert(str(v, "device_id"));
      names.insert(str(v, "device_name"));
      QVERIFY(num(v, "received_at") >= before && num(v, "received_at") <= nowMs());
      QVERIFY(num(v, "written_at") >= before - 1000 && num(v, "written_at") <= nowMs() + 1000);
      QVERIFY(!str(v, "hlc").empty());
      QCOMPARE(str(v, "author"), std::string("nurse"));
    }
    QVERIFY(devices == (std::set<std::string>{deviceA, deviceB}));
    QVERIFY(names == (std::set<std::string>{"Ward tablet A", "Ward tablet B"}));

    // Filters, each with the total of what matches.
    auto total = [&](const std::string& query) {
      HttpResult r = admin.get("/v1/admin/conflicts?" + query);
      return r.status == 200 ? num(parseJson(r.body), "total") : -r.status;
    };
    const std::int64_t everything = total("");
    QVERIFY(everything >= 2);
    QCOMPARE(total("id=" + encoded(id)), std::int64_t{1});
    QCOMPARE(total("field=" + encoded(path)), everything);  // both patients' conflicts are on this field
    QCOMPARE(total("field=" + encoded(path.substr(0, path.find('.') + 1))), everything);
    QCOMPARE(total("field=no-such-field"), std::int64_t{0});
    QCOMPARE(total("field=%25"), std::int64_t{0});  // a '%' means itself, not "anything"
    QCOMPARE(total("opened_before=" + std::to_string(before)), std::int64_t{0});
    QCOMPARE(total("opened_before=" + std::to_string(nowMs() + 1000)), everything);
    QCOMPARE(total("clinic=demo&patient=inbox-patient-2"), std::int64_t{1});
    QCOMPARE(total("clinic=elsewhere"), std::int64_t{0});
    QCOMPARE(total("opened_before=yesterday"), std::int64_t{-400});
    QCOMPARE(total("colour=red"), std::int64_t{-400});
    // Allergies and medications lead the inbox, however new.
    QVERIFY(!makeConflict(admin, "inbox-patient-allergy", true).first.empty());
    HttpResult ordered = admin.get("/v1/admin/conflicts?limit=1000");
    const json::Value ov = parseJson(ordered.body);
    const json::Array& inbox = *ov.find("conflicts")->asArray();
    QVERIFY(inbox.size() >= 3);
    QCOMPARE(str(inbox[0], "patient"), std::string("inbox-patient-allergy"));
    QVERIFY(str(inbox[0], "path").rfind("allergies[", 0) == 0);
    QCOMPARE(inbox[0].find("significant")->asBool().value_or(false), true);
    QCOMPARE(inbox[0].find("clinical")->asBool().value_or(false), true);
    for (std::size_t i = 1; i < inbox.size(); ++i) {
      QCOMPARE(inbox[i].find("significant")->asBool().value_or(true), false);
      QCOMPARE(inbox[i].find("clinical")->asBool().value_or(false), true);  // a birth date is clinical too
    }
    const std::int64_t withAllergy = everything + 1;

    // Pages: limit and offset over the same order.
    HttpResult page = admin.get("/v1/admin/conflicts?limit=1&offset=1");
    json::Value pv = parseJson(page.body);
    QCOMPARE(pv.find("conflicts")->asArray()->size(), std::size_t{1});
    QCOMPARE(num(pv, "total"), withAllergy);
    QCOMPARE(str((*pv.find("conflicts")->asArray())[0], "id"), str(inbox[1], "id"));

    // A conflict where one side cleared the field resolves to "no value" too.
    HttpResult cleared = admin.post("/v1/admin/conflicts/resolve",
                                    json::Object{{"id", id}, {"value", json::Value()}, {"reason", "not known"}});
    QVERIFY2(cleared.status == 200, cleared.body.c_str());
    QCOMPARE(total("id=" + encoded(id)), std::int64_t{0});
    HttpResult list =
        admin.post("/v1/admin/conflicts/resolve",
                   json::Object{{"id", str(inbox[0], "id")}, {"value", json::Array{}}, {"reason", "a list"}});
    QCOMPARE(list.status, 400);
  }

  void activityCountsTheLastDayByHour() {
    AdminClient admin(m_server.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    auto currentHour = [&]() {
      json::Value v = parseJson(admin.get("/v1/admin/activity").body);
      return v.find("hours") && v.find("hours")->asArray() ? v.find("hours")->asArray()->back() : json::Value();
    };
    const json::Value start = currentHour();
    TabletClient t(m_server.url());
    enrolAndLogin(t, m_server, issueCode(admin));
    Chart chart(t.replica, "nurse", "activity-patient");
    std::vector<crdt::Op> ops;
    for (int i = 0; i < 5; ++i) ops.push_back(chart.write(crdt::field::kFamilyName, "Name " + std::to_string(i)));
    QCOMPARE(t.push(ops).status, 200);
    std::int64_t cursor = 0;
    QVERIFY(t.pullAll(cursor).size() >= 5);
    QCOMPARE(
        t.http
            .post("/v1/sync/report",
                  json::serialize(json::Object{{"pending_ops", 0}, {"last_error", "network unreachable"}}), t.auth())
            .status,
        200);
    QCOMPARE(t.http.post("/v1/sync/push", "not an op batch", t.auth(), "application/x-charta-ops").status, 400);

    HttpResult r = admin.get("/v1/admin/activity");
    QCOMPARE(r.status, 200);
    json::Value v = parseJson(r.body);
    const json::Array& hours = *v.find("hours")->asArray();
    QCOMPARE(hours.size(), std::size_t{24});
    for (std::size_t i = 1; i < hours.size(); ++i) {
      QCOMPARE(num(hours[i], "start") - num(hours[i - 1], "start"), std::int64_t{3600 * 1000});
    }
    QVERIFY(num(hours.back(), "start") <= nowMs() && nowMs() - num(hours.back(), "start") < 3600 * 1000);
    QVERIFY(num(v, "since") <= nowMs());
    const json::Value& now = hours.back();
    // Another hour may have begun since `start` was read: then it counts from 0.
    const bool sameHour = num(now, "start") == num(start, "start");
    auto grew = [&](const char* key) { return num(now, key) - (sameHour ? num(start, key) : 0); };
    QVERIFY(grew("pushes") >= 2);
    QVERIFY(grew("pulls") >= 1);
    QVERIFY(grew("ops_in") >= 5);
    QVERIFY(grew("ops_out") >= 5);
    QVERIFY(grew("errors") >= 2);  // the reported error and the refused push
    QCOMPARE(admin.get("/v1/admin/activity?hours=48").status, 400);
  }

  void auditRowsCarryTheirChainStatus() {
    TestServer s;
    startServer(s);
    AdminClient admin(s.url());
    QCOMPARE(admin.login("admin", "demo-admin-pass").status, 200);
    QVERIFY(!issueCode(admin).empty());
    QVERIFY(!issueCode(admin).empty());
    std::vector<json::Value> intact = [&] {
      HttpResult r = admin.get("/v1/admin/audit?limit=1000");
      return *parseJson(r.body).find("events")->asArray();
    }();
    QVERIFY(intact.size() >= 6);
    for (const json::Value& e : intact) QCOMPARE(str(e, "chain"), std::string("ok"));

    {
      auto db = openStoreDirectly(s);
      QVERIFY(db);
      auto lease = db->acquire();
      QVERIFY(lease.isOk());
      QVERIFY((*lease.value()).exec("UPDATE audit SET action = 'quietly.changed' WHERE seq = 3").isOk());
      QVERIFY((*lease.value()).exec("DELETE FROM audit WHERE seq = 5").isOk());
    }
    HttpResult r = admin.get("/v1/admin/audit?limit=1000");
    QCOMPARE(r.status, 200);
    std::map<std::int64_t, std::pair<std::string, std::string>> status;
    const json::Value listed = parseJson(r.body);
    for (const json::Value& e : *listed.find("events")->asArray()) {
      status[num(e, "seq")] = {str(e, "chain"), str(e, "chain_problem")};
    }
    QCOMPARE(status[1].first, std::string("ok"));
    QCOMPARE(status[2].first, std::string("ok"));
    QCOMPARE(status[3].first, std::string("broken"));
    QCOMPARE(status[3].second, std::string("changed after it was written"));
    QCOMPARE(status[4].first, std::string("ok"));  // its link to row 3 holds: row 3's hash was kept
    QVERIFY(!status.count(5));
    QCOMPARE(status[6].first, std::string("broken"));
    QCOMPARE(status[6].second, std::string("the row before it is missing"));
    QCOMPARE(status[7].first, std::string("ok"));
    // A page filtered to one row still checks that row's link.
    HttpResult one = admin.get("/v1/admin/audit?after=5&limit=1");
    const json::Value oneRow = parseJson(one.body);
    QCOMPARE(oneRow.find("events")->asArray()->size(), std::size_t{1});
    QCOMPARE(str((*oneRow.find("events")->asArray())[0], "chain"), std::string("broken"));
  }
};

QTEST_GUILESS_MAIN(ConsoleTest)
#include "console_test.moc"
