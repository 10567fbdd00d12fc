// The patient portal's server side end to end, over real HTTP on loopback
// (SQLite, or PostgreSQL when built with CHARTA_API_TEST_POSTGRES):
// invitations from the admin API and from a tablet, accepting them, the
// passphrase and the time-based code (RFC 6238 with SHA-256, checked against
// the RFC's vectors), the cookie session and its CSRF token, the record as
// FHIR with withheld notes and the immunisations due, the access log from the
// audit chain, and an access matrix: one account against every portal URL of
// a patient it is not linked to, and the staff API with its cookie. The page
// itself is driven in headless Chromium by tests/browser/portal_test.mjs.

#include <QtTest>
#include <map>
#include <set>

#include "api/api_fixture.h"
#include "crypto.h"

using namespace charta;
using namespace charta::test;

namespace {

std::string cookiePair(const HttpResult& r) {
  const std::string* c = r.header("set-cookie");
  return c ? c->substr(0, c->find(';')) : std::string();
}

std::string fromBase32(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) return {};
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

// A patient's browser: the portal cookie and its CSRF token.
struct Browser {
  HttpClient http;
  std::string cookie, csrf;
  explicit Browser(const std::string& url) : http(url) {}
  HttpResult signIn(const std::string& user, const std::string& passphrase, const std::string& code = {}) {
    json::Object body{{"username", user}, {"passphrase", passphrase}};
    if (!code.empty()) body.emplace_back("code", code);
    HttpResult r = http.post("/v1/me/session", json::serialize(body));
    if (r.status == 200) {
      cookie = cookiePair(r);
      csrf = str(parseJson(r.body), "csrf");
    }
    return r;
  }
  HeaderList headers(bool withCsrf = true) const {
    HeaderList h{{"Cookie", cookie}};
    if (withCsrf) h.emplace_back("X-Charta-CSRF", csrf);
    return h;
  }
  HttpResult get(const std::string& path) { return http.get(path, headers(false)); }
  HttpResult post(const std::string& path, const std::string& body = "{}", bool withCsrf = true) {
    return http.post(path, body, headers(withCsrf));
  }
};

}  // namespace

class PortalTest : public ApiFixture {
  Q_OBJECT

 private:
  TestServer m_server;
  std::unique_ptr<AdminClient> m_admin;
  std::unique_ptr<TabletClient> m_tablet;
  std::string m_note;  // a signed note of "portal-a"

  // A chart pushed by the tablet: a name, a birth date, an allergy, a
  // completed immunisation and (with `withNote`) a signed note.
  void chartPatient(const std::string& patient, const std::string& family, std::uint64_t firstSeq,
                    bool withNote = false) {
    Chart c(m_tablet->replica, "nurse", patient, firstSeq);
    std::vector<crdt::Op> ops;
    ops.push_back(c.write(crdt::field::kFamilyName, family));
    ops.push_back(c.write(crdt::field::kGivenNames, std::string("Ada")));
    ops.push_back(c.write(crdt::field::kBirthDate, std::string("2019-05-01")));
    auto keep = [&](crdt::Op op) {
      (void)c.doc.apply(op);
      ops.push_back(std::move(op));
    };
    keep(c.factory.addEntry(c.doc, crdt::Collection::kIdentifiers,
                            {crdt::FieldValue{crdt::field::kIdentifierSystem, std::string("urn:charta:mrn")},
                             crdt::FieldValue{crdt::field::kIdentifierValue, "MRN-" + family}}));
    keep(c.factory.addEntry(c.doc, crdt::Collection::kAllergies,
                            {crdt::FieldValue{crdt::field::kDisplay, std::string("Penicillin")},
                             crdt::FieldValue{crdt::field::kCriticality, std::string("high")}}));
    keep(c.factory.addEntry(c.doc, crdt::Collection::kImmunisations,
                            {crdt::FieldValue{crdt::field::kCode, std::string("http://hl7.org/fhir/sid/cvx|20")},
                             crdt::FieldValue{crdt::field::kDisplay, std::string("DTaP")},
                             crdt::FieldValue{crdt::field::kOccurrenceDate, std::string("2019-07-01")}}));
    if (withNote) {
      keep(c.factory.startNote(c.doc, "Seen at home."));
      const crdt::OpId note = ops.back().id;
      keep(c.factory.signNote(c.doc, note, "Seen at home. Wound healing well."));
      keep(c.factory.startNote(c.doc, "Discussed the family situation."));
      const crdt::OpId second = ops.back().id;
      keep(c.factory.signNote(c.doc, second, "Discussed the family situation."));
      m_note = crdt::toString(second);
    }
    HttpResult r = m_tablet->push(ops);
    QVERIFY2(r.status == 200, r.body.c_str());
  }

  std::string invite(const std::string& patient, const std::string& relation = "self") {
    HttpResult r = m_admin->post("/v1/admin/patients/" + patient + "/invitations",
                                 json::Object{{"relation", relation}, {"name", "Ada " + patient}});
    return r.status == 201 ? str(parseJson(r.body), "code") : std::string();
  }

  HttpResult accept(const std::string& code, const std::string& user, const std::string& passphrase,
                    bool secondFactor = false) {
    return HttpClient(m_server.url())
        .post("/v1/me/accept",
              json::serialize(json::Object{
                  {"code", code}, {"username", user}, {"passphrase", passphrase}, {"second_factor", secondFactor}}));
  }

 private slots:
  void initTestCase() {
    startServer(m_server);
    m_admin = std::make_unique<AdminClient>(m_server.url());
    QCOMPARE(m_admin->login("admin", "demo-admin-pass").status, 200);
    m_tablet = std::make_unique<TabletClient>(m_server.url());
    enrolAndLogin(*m_tablet, m_server, issueCode(*m_admin));
    chartPatient("portal-a", "Lovelace", 1, true);
    chartPatient("portal-b", "Byron", 100);
    chartPatient("portal-c", "King", 200);
  }

  void totpMatchesTheRfcVectors() {
    // RFC 6238 appendix B, SHA-256 (the 32-byte seed), last 6 of the 8 digits.
    const std::string seed = "12345678901234567890123456789012";
    const std::map<std::int64_t, std::string> vectors = {{59, "119246"},         {1111111109, "084774"},
                                                         {1111111111, "062674"}, {1234567890, "819424"},
                                                         {2000000000, "698825"}, {20000000000, "737706"}};
    for (const auto& [t, code] : vectors) QCOMPARE(server::totpCode(seed, t), code);
    QVERIFY(server::verifyTotp(seed, "119246", 59 + 30));   // one step late
    QVERIFY(!server::verifyTotp(seed, "119246", 59 + 90));  // three steps late
    QVERIFY(!server::verifyTotp(seed, "11924", 59));
    QCOMPARE(server::base32Encode("foobar"), std::string("MZXW6YTBOI"));  // RFC 4648, unpadded
  }

  void invitationsAreSingleUseAndScoped() {
    const std::string code = invite("portal-a");
    QVERIFY(!code.empty());
    QCOMPARE(invite("no-such-patient"), std::string());
    // A clinic admin of another clinic does not learn the patient exists.
    QCOMPARE(m_admin->post("/v1/admin/clinics", json::Object{{"id", "portal-east"}, {"name", "East"}}).status, 201);
    QCOMPARE(m_admin
                 ->post("/v1/admin/users", json::Object{{"id", "east-lead"},
                                                        {"role", "clinic_admin"},
                                                        {"clinic", "portal-east"},
                                                        {"password", "east-lead-pass"}})
                 .status,
             201);
    AdminClient east(m_server.url());
    QCOMPARE(east.login("east-lead", "east-lead-pass").status, 200);
    HttpResult foreign =
        east.post("/v1/admin/patients/portal-a/invitations", json::Object{{"relation", "self"}, {"name", "Ada"}});
    QCOMPARE(foreign.status, 404);
    QCOMPARE(
        m_admin->post("/v1/admin/patients/portal-a/invitations", json::Object{{"relation", "cousin"}, {"name", "A"}})
            .status,
        400);

    QCOMPARE(accept(code, "ada", "short").status, 400);
    QCOMPARE(accept(code, "x", "long enough passphrase").status, 400);
    HttpResult ok = accept(code.substr(0, 4) + code.substr(5), "Ada", "correct horse battery");  // no dash, any case
    QVERIFY2(ok.status == 201, ok.body.c_str());
    json::Value v = parseJson(ok.body);
    QCOMPARE(str(v, "account"), std::string("ada"));
    QCOMPARE(str((*v.find("patients")->asArray())[0], "name"), std::string("Ada Lovelace"));
    QVERIFY(!v.find("totp_secret"));
    HttpResult again = accept(code, "someone", "another passphrase");
    QCOMPARE(again.status, 403);
    QCOMPARE(errorCode(again), std::string("bad_code"));
    QVERIFY(again.body.find("Ask your clinic for a new one") != std::string::npos);

    // A tablet invites too (a patient of its own clinic only).
    HttpResult byTablet = m_tablet->http.post(
        "/v1/sync/invitations",
        json::serialize(json::Object{{"patient", "portal-b"}, {"relation", "parent"}, {"name", "Parent of B"}}),
        m_tablet->auth());
    QVERIFY2(byTablet.status == 201, byTablet.body.c_str());
    // The same account adds a second patient with its own passphrase; a
    // wrong passphrase does not take the name over.
    const std::string codeB = str(parseJson(byTablet.body), "code");
    QCOMPARE(accept(codeB, "ada", "not the passphrase").status, 409);
    HttpResult second = accept(codeB, "ada", "correct horse battery");
    QVERIFY2(second.status == 201, second.body.c_str());
    QCOMPARE(parseJson(second.body).find("patients")->asArray()->size(), std::size_t{2});
    QVERIFY(!auditOf(*m_admin, "portal.invite").empty());
    QCOMPARE(auditOf(*m_admin, "portal.invitation_accepted").size(), std::size_t{2});
  }

  void theRecordIsFhirWithWhatIsDueAndWithheldNotes() {
    Browser b(m_server.url());
    QCOMPARE(b.signIn("ada", "wrong passphrase!").status, 401);
    HttpResult in = b.signIn("ADA", "correct horse battery");
    QVERIFY2(in.status == 200, in.body.c_str());
    const std::string* setCookie = in.header("set-cookie");
    QVERIFY(setCookie && setCookie->find("HttpOnly") != std::string::npos &&
            setCookie->find("SameSite=Strict") != std::string::npos && setCookie->rfind("charta_me=", 0) == 0);
    QCOMPARE(parseJson(in.body).find("patients")->asArray()->size(), std::size_t{2});

    HttpResult r = b.get("/v1/me/patients/portal-a/record");
    QVERIFY2(r.status == 200, r.body.c_str());
    json::Value v = parseJson(r.body);
    QCOMPARE(str(*v.find("patient"), "name"), std::string("Ada Lovelace"));
    QCOMPARE(str(*v.find("patient"), "relation"), std::string("self"));
    std::multiset<std::string> types;
    for (const json::Value& e : *v.find("bundle")->find("entry")->asArray()) {
      types.insert(str(*e.find("resource"), "resourceType"));
    }
    QCOMPARE(types.count("Patient"), std::size_t{1});
    QCOMPARE(types.count("AllergyIntolerance"), std::size_t{1});
    QCOMPARE(types.count("Immunization"), std::size_t{1});
    QCOMPARE(types.count("DocumentReference"), std::size_t{2});
    QCOMPARE(num(v, "not_shared_notes"), std::int64_t{0});
    // Born 2019-05-01 with one DTaP: the next doses are due (or overdue).
    bool dtapDue = false;
    for (const json::Value& d : *v.find("immunisations_due")->asArray()) {
      dtapDue = dtapDue || (str(d, "vaccine") == "DTaP" && num(d, "dose") == 2);
    }
    QVERIFY(dtapDue);

    // The clinic withholds one note, with a reason that is itself audited.
    HttpResult unshare = m_admin->post("/v1/admin/patients/portal-a/notes/" + m_note + "/sharing",
                                       json::Object{{"shared", false}, {"reason", "third-party information"}});
    QVERIFY2(unshare.status == 200, unshare.body.c_str());
    QCOMPARE(
        m_admin
            ->post("/v1/admin/patients/portal-a/notes/r999.1/sharing", json::Object{{"shared", false}, {"reason", "x"}})
            .status,
        404);
    QCOMPARE(m_admin
                 ->post("/v1/admin/patients/portal-a/notes/" + m_note + "/sharing",
                        json::Object{{"shared", false}, {"reason", ""}})
                 .status,
             400);
    const std::vector<json::Value> withheld = auditOf(*m_admin, "note.unshare");
    QCOMPARE(withheld.size(), std::size_t{1});
    QCOMPARE(str(*withheld[0].find("detail"), "reason"), std::string("third-party information"));
    json::Value after = parseJson(b.get("/v1/me/patients/portal-a/record").body);
    QCOMPARE(num(after, "not_shared_notes"), std::int64_t{1});
    std::size_t documents = 0;
    for (const json::Value& e : *after.find("bundle")->find("entry")->asArray()) {
      if (str(*e.find("resource"), "resourceType") == "DocumentReference") {
        ++documents;
        QVERIFY(str(*e.find("resource"), "id") != m_note);
      }
    }
    QCOMPARE(documents, std::size_t{1});
    // The download is the same Bundle, as a file.
    HttpResult file = b.get("/v1/me/patients/portal-a/fhir");
    QCOMPARE(file.status, 200);
    QVERIFY(file.header("content-type")->rfind("application/fhir+json", 0) == 0);
    QVERIFY(file.header("content-disposition")->find("charta-portal-a.json") != std::string::npos);
    QVERIFY(file.body.find(m_note) == std::string::npos);

    // A nurse of another clinic opens the chart by break-glass, with a reason.
    QCOMPARE(m_admin
                 ->post("/v1/admin/users", json::Object{{"id", "east-nurse"},
                                                        {"role", "nurse"},
                                                        {"clinic", "portal-east"},
                                                        {"password", "east-nurse-pass"}})
                 .status,
             201);
    TabletClient east(m_server.url());
    QCOMPARE(east.enrol(issueCode(*m_admin, "portal-east"), "East tablet").status, 200);
    QCOMPARE(east.login("east-nurse", "east-nurse-pass").status, 200);
    HttpResult bg = east.http.post(
        "/v1/sync/break-glass",
        json::serialize(json::Object{
            {"identifier", "MRN-Lovelace"}, {"birth_date", "2019-05-01"}, {"reason", "found unconscious at school"}}),
        east.auth());
    QVERIFY2(bg.status == 200, bg.body.c_str());

    // The access log: the nurse's tablet changed the chart, the patient viewed it.
    HttpResult log = b.get("/v1/me/patients/portal-a/access");
    QCOMPARE(log.status, 200);
    std::set<std::string> seen;
    const json::Value logBody = parseJson(log.body);
    bool breakGlassShown = false;
    std::int64_t changes = 0;
    for (const json::Value& e : *logBody.find("events")->asArray()) {
      seen.insert(str(e, "role") + " " + str(e, "action"));
      // Staff's reasons other than an emergency's stay in the audit chain.
      if (str(e, "action") == "withheld a note") QVERIFY(e.find("reason")->isNull());
      if (str(e, "action") == "changed") changes += num(e, "times");
      if (e.find("break_glass")->asBool().value_or(false)) {
        breakGlassShown = str(e, "reason") == "found unconscious at school" && str(e, "clinic") == "East" &&
                          str(e, "device") == "East tablet" && str(e, "action") == "emergency access";
      }
    }
    QVERIFY(breakGlassShown);
    // The edits come as one line per person, device and hour, counted: the
    // tablet's 10 ops of this chart.
    QCOMPARE(changes, std::int64_t{10});
    QVERIFY(seen.count("nurse changed"));
    QVERIFY(seen.count("patient viewed"));
    QVERIFY(seen.count("patient downloaded"));
    QVERIFY(seen.count("sysadmin withheld a note"));

    // Signing out needs the CSRF token and ends the session.
    HttpResult noToken = b.post("/v1/me/logout", "{}", false);
    QCOMPARE(noToken.status, 403);
    QCOMPARE(errorCode(noToken), std::string("csrf"));
    QCOMPARE(b.post("/v1/me/logout").status, 200);
    QCOMPARE(b.get("/v1/me/patients/portal-a/record").status, 401);
  }

  void secondFactorIsAskedAndChecked() {
    HttpResult ok = accept(invite("portal-c", "guardian"), "guardian.c", "a long guardian passphrase", true);
    QVERIFY2(ok.status == 201, ok.body.c_str());
    json::Value v = parseJson(ok.body);
    const std::string secret = fromBase32(str(v, "totp_secret"));
    QCOMPARE(secret.size(), std::size_t{20});
    QVERIFY(str(v, "totp_uri").find("algorithm=SHA256") != std::string::npos);
    Browser b(m_server.url());
    HttpResult noCode = b.signIn("guardian.c", "a long guardian passphrase");
    QCOMPARE(noCode.status, 401);
    QCOMPARE(errorCode(noCode), std::string("second_factor_required"));
    const std::int64_t now = QDateTime::currentSecsSinceEpoch();
    std::string wrong = server::totpCode(secret, now - 3600);
    if (server::verifyTotp(secret, wrong, now)) wrong = "000000";
    QCOMPARE(errorCode(b.signIn("guardian.c", "a long guardian passphrase", wrong)), std::string("bad_second_factor"));
    // The wrong passphrase with a right code is still refused.
    QCOMPARE(b.signIn("guardian.c", "not the passphrase!", server::totpCode(secret, now)).status, 401);
    HttpResult in = b.signIn("guardian.c", "a long guardian passphrase", server::totpCode(secret, now));
    QVERIFY2(in.status == 200, in.body.c_str());
    QCOMPARE(str((*parseJson(in.body).find("patients")->asArray())[0], "relation"), std::string("guardian"));
    QCOMPARE(b.get("/v1/me/patients/portal-c/record").status, 200);
  }

  // Account "ada" holds portal-a and portal-b: every other patient, by every
  // URL, is "not found", and the portal's cookie opens nothing of the staff API.
  void anotherPatientsRecordIsUnreachable() {
    Browser b(m_server.url());
    QCOMPARE(b.signIn("ada", "correct horse battery").status, 200);
    int cells = 0, wrong = 0;
    auto expect = [&](const std::string& method, const std::string& path, int want) {
      HttpResult r = method == "GET" ? b.get(path) : b.post(path);
      ++cells;
      if (r.status != want) {
        ++wrong;
        qWarning("%s %s: expected %d, got %d %s", method.c_str(), path.c_str(), want, r.status, r.body.c_str());
      }
    };
    for (const char* other :
         {"portal-c", "no-such-patient", "portal-a%2F..%2Fportal-c", "portal-c%00", "PORTAL-A", "portal-a%20"}) {
      for (const char* what : {"record", "fhir", "access"}) {
        expect("GET", std::string("/v1/me/patients/") + other + "/" + what, 404);
      }
    }
    expect("GET", "/v1/me/patients/portal-a/record?patient=portal-c", 404);
    expect("GET", "/v1/me/patients/portal-a/../portal-c/record", 404);
    // Its own patients answer.
    expect("GET", "/v1/me/patients/portal-a/record", 200);
    expect("GET", "/v1/me/patients/portal-b/access", 200);
    // The staff API does not take the portal's cookie.
    for (const char* path : {"/v1/admin/clinics", "/v1/admin/audit", "/fhir/Patient/portal-a/$everything",
                             "/v1/sync/pull?since=0", "/v1/console/session"}) {
      expect("GET", path, 401);
    }
    expect("POST", "/v1/admin/patients/portal-c/invitations", 401);
    expect("POST", "/v1/sync/invitations", 401);
    // Without the cookie nothing of the portal answers.
    HttpClient anonymous(m_server.url());
    for (const char* path : {"/v1/me/session", "/v1/me/patients/portal-a/record", "/v1/me/patients/portal-a/fhir",
                             "/v1/me/patients/portal-a/access"}) {
      ++cells;
      if (anonymous.get(path).status != 401) ++wrong;
    }
    // A staff session token in the portal's cookie is not a portal session.
    ++cells;
    if (anonymous.get("/v1/me/session", {{"Cookie", "charta_me=" + m_admin->token}}).status != 401) ++wrong;
    qInfo("portal access matrix: %d cells, %d wrong", cells, wrong);
    QCOMPARE(wrong, 0);
  }

  void pageComesFromTheServerUnderAStrictPolicy() {
    HttpClient http(m_server.url());
    HttpResult page = http.get("/me");
    QCOMPARE(page.status, 200);
    QVERIFY(page.body.find("/me/portal.js") != std::string::npos);
    QVERIFY(page.header("content-security-policy")->find("script-src 'self'") != std::string::npos);
    for (const char* asset : {"/me/portal.js", "/me/dom.js", "/me/base.css", "/me/portal.css", "/me/icon.svg"}) {
      QCOMPARE(http.get(asset).status, 200);
    }
    QCOMPARE(http.get("/me/console.js").status, 404);
  }
};

QTEST_GUILESS_MAIN(PortalTest)
#include "portal_test.moc"
