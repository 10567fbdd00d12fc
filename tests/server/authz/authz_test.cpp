// The authorisation matrix of the sync server's HTTP API: every route of the
// route table x every kind of caller (anonymous, nurse, clinic admin of this
// or another clinic, sysadmin, revoked / expired / garbage / misplaced
// credentials) x the clinic the call aims at (own or other), run over real
// HTTP against a real server (SQLite, or PostgreSQL when built with
// CHARTA_AUTHZ_TEST_POSTGRES). Each cell expects one exact status, derived
// from the rules below; a 2xx where a refusal was due, or a 2xx that shows or
// changes another clinic's data, is an unauthorised success.
//
// The rules (what the server must do):
//  - Credentials (X-Charta-Device ID:SECRET, Authorization: Bearer TOKEN) are
//    checked whenever they are sent, on every route: a revoked device gets 410,
//    an unknown/wrong device credential, an unknown, expired, ended or revoked
//    user's session, a session opened on another device, or a header that is
//    not "Bearer ..." get 401.
//  - Public routes (healthz, metrics, enrol, login) need nothing more.
//  - logout and refresh need a session (401 without).
//  - push, pull, report, audit, break-glass need a device credential and a
//    session (401 without either) of a nurse or clinic admin of the device's
//    clinic (403 for a sysadmin or another clinic's user). Ops for a patient
//    of another clinic are not stored; pull never returns another clinic's
//    ops; audit events recorded by a user of another clinic are refused
//    (400); break-glass hands out another clinic's chart only as out of
//    scope (read-only), and no ops of the device's own clinic's patients.
//  - users, enrolment codes and devices of the admin API need a clinic admin
//    or a sysadmin (401 without a session, 403 for a nurse); a clinic admin
//    acts on their own clinic only (403 otherwise, also for sysadmin users),
//    sees only their clinic's users and devices; unknown ids are 404.
//  - Attachments (declare, status, chunk upload and download) need what push
//    and pull need, and a patient of the device's clinic (404 otherwise, as
//    for an unknown patient); purging a patient's attachments needs a sysadmin.
//  - clinics, conflicts, audit and patient moves need a sysadmin (403 else).
//  - login: a nurse signs in on a device of their clinic only, a sysadmin
//    without a device only, a clinic admin either way (on a device of their
//    clinic); 403 otherwise.
//  - The console: its page and files are public. Its sign-in opens a cookie
//    session for a sysadmin without a device only (403 otherwise). The cookie
//    is a sysadmin's session on every route that needs one; a cookie holding
//    any other session (a clinic admin's, a device's, an expired or ended
//    one) gets 401 there. Signed in by the cookie, every request that is not
//    a GET must carry the session's CSRF token (403 before anything else).
//    The console's session and sign-out routes take the cookie only (401 for a
//    bearer token).
//  - The patient portal: its page, accepting an invitation and signing in
//    need nothing; its other routes need a patient's portal session (401 for
//    every staff credential). Invitations and note sharing are for a clinic
//    admin of the patient's clinic or a sysadmin (404 for another clinic's
//    patient, as for an unknown one); a tablet invites patients of its own
//    clinic only (404 otherwise).

#include <QtTest>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "api/api_harness.h"
#include "charta/crdt/schema.h"
#include "db.h"
#include "support/fake_clock.h"

using namespace charta;
using namespace charta::test;

namespace {

#ifdef CHARTA_AUTHZ_TEST_POSTGRES
constexpr bool kPostgres = true;
#else
constexpr bool kPostgres = false;
#endif

constexpr const char* kOwn = "demo";       // the demo clinic: the home of the demo nurse
constexpr const char* kOther = "other";    // a second clinic made through the admin API
constexpr const char* kPassword = "authz-password-1";
constexpr const char* kOps = "application/x-charta-ops";
constexpr const char* kBirthDate = "1970-01-01";  // of the patients break-glass finds
// The attachment of pt-demo and of pt-other: a tiny "JPEG" and its SHA-256.
const std::string kAttachment = std::string("\xFF\xD8\xFF\xE0", 4) + "authz attachment";
constexpr const char* kAttachmentHash = "e834df96439b83ab7fd573889520896b86f67345f8f9d71d575eb7cd87fa63bf";

// What a route of the route table needs (server/src/api.cc).
enum class Need { kNothing, kSync, kSession, kAdmin, kSysadmin };
enum class Who { kNobody, kNurse, kClinicAdmin, kSysadmin };

struct Device {
  std::string id, secret, replica, clinic;
  HeaderList header() const { return {{"X-Charta-Device", id + ":" + secret}}; }
};

HeaderList bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
HeaderList operator+(HeaderList a, const HeaderList& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Caller {
  std::string name;
  HeaderList headers;
  int authFailure = 0;     // what authentication answers (401, 410); 0: the credentials are good
  Who who = Who::kNobody;  // the signed-in user, when the session is good
  std::string userId;
  std::string userClinic;
  std::string deviceClinic;  // the device's clinic, when its credential is good
  std::string replica;       // the replica id of the device named in the headers, if any
  // Equivalent credentials with a new session, for the calls that end it.
  std::function<HeaderList()> fresh;
  bool cookie = false;  // the session is in the console's cookie
  bool csrf = false;    // ... and the request carries its CSRF token
};

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::string contentType = "application/json";
};

struct Row {
  std::string route;   // "POST /v1/admin/users"
  std::string target;  // what the call aims at, "" when nothing
  Need need = Need::kNothing;
  // Builds the request; `success`: the cell expects a 2xx, so the call gets
  // resources of its own (a fresh victim, code, conflict).
  std::function<Request(const Caller&, bool success)> build;
  // The status once authentication and the route's need are satisfied.
  std::function<int(const Caller&)> handler;
  // For a 2xx: what the answer shows or changed that the caller may not; "" when nothing.
  std::function<std::string(const Caller&, const json::Value&)> leak;
  // Called with the answer (bookkeeping: patients moved, ops stored).
  std::function<void(const Caller&, const Request&, const HttpResult&)> after;
};

bool is2xx(int status) { return status >= 200 && status < 300; }

crdt::FieldRef demographic(crdt::FieldId f) { return crdt::FieldRef{crdt::Collection::kDemographics, {}, f}; }

}  // namespace

class AuthzTest : public QObject {
  Q_OBJECT

 private:
  TestServer m_server;
  std::unique_ptr<HttpClient> m_http;
  std::string m_sysToken;
  int m_unique = 0;

  // Devices and sessions of the fixture.
  Device m_d1, m_d2, m_d3, m_o1, m_o2;
  std::string m_nurseTok, m_nurseD2Tok, m_nurseOtherTok, m_nurseOtherO2Tok, m_caOwnTok, m_caOtherTok,
      m_caOwnDevTok;
  // Sentinels: real targets for cells that must be refused.
  std::map<std::string, std::string> m_sentinelUser, m_sentinelConflict, m_sentinelMovable;
  std::map<std::string, Device> m_sentinelDevice;

  // Which clinic each patient the suite wrote is in.
  std::map<std::string, std::string> m_patientClinic;
  // Next op sequence per replica, and the suite's copy of each chart.
  std::map<std::string, std::uint64_t> m_nextSeq;
  std::map<std::string, std::unique_ptr<crdt::ChartDocument>> m_docs;
  // The highest audit event seq each device (by replica id) has had stored.
  std::map<std::string, std::int64_t> m_auditAcked;

  std::vector<Caller> m_callers;
  std::vector<Row> m_rows;

  std::string unique(const std::string& prefix) { return prefix + "-" + std::to_string(++m_unique); }

  HttpResult send(const Request& r, const HeaderList& headers) {
    return m_http->request(r.method, r.path, r.body, headers, r.contentType);
  }
  HttpResult sysPost(const std::string& path, const json::Value& body) {
    return m_http->post(path, json::serialize(body), bearer(m_sysToken));
  }

  std::string login(const HeaderList& device, const std::string& user, const std::string& password) {
    HttpResult r = m_http->post("/v1/login", json::serialize(json::Object{{"username", user}, {"password", password}}),
                                device);
    if (r.status != 200) {
      qWarning("login of %s failed: %d %s", user.c_str(), r.status, r.body.c_str());
      return {};
    }
    return str(parseJson(r.body), "token");
  }

  // A new invitation to the patient portal for `patient`.
  std::string portalInvitation(const std::string& patient) {
    HttpResult r = sysPost("/v1/admin/patients/" + patient + "/invitations",
                           json::Object{{"relation", "self"}, {"name", "A patient"}});
    if (r.status != 201) qWarning("portal invitation failed: %d %s", r.status, r.body.c_str());
    return str(parseJson(r.body), "code");
  }

  // The console's cookie and CSRF token headers of a new console session of `user`.
  HeaderList consoleSession(const std::string& user, const std::string& password, bool withCsrf) {
    HttpResult r =
        m_http->post("/v1/console/session", json::serialize(json::Object{{"username", user}, {"password", password}}));
    const std::string* cookie = r.header("set-cookie");
    if (r.status != 200 || !cookie) {
      qWarning("console sign-in of %s failed: %d %s", user.c_str(), r.status, r.body.c_str());
      return {};
    }
    HeaderList h{{"Cookie", cookie->substr(0, cookie->find(';'))}};
    if (withCsrf) h.emplace_back("X-Charta-CSRF", str(parseJson(r.body), "csrf"));
    return h;
  }
  static HeaderList inCookie(const std::string& token) { return {{"Cookie", "charta_console=" + token}}; }

  bool createUser(const std::string& id, const std::string& role, const std::string& clinic) {
    json::Object body{{"id", id}, {"role", role}, {"password", kPassword}};
    if (!clinic.empty()) body.emplace_back("clinic", clinic);
    HttpResult r = sysPost("/v1/admin/users", body);
    if (r.status != 201) qWarning("creating user %s failed: %d %s", id.c_str(), r.status, r.body.c_str());
    return r.status == 201;
  }

  std::string issueCode(const std::string& clinic) {
    HttpResult r = sysPost("/v1/admin/enrolment-codes", json::Object{{"clinic", clinic}});
    return r.status == 201 ? str(parseJson(r.body), "code") : std::string();
  }

  Device enrol(const std::string& clinic) {
    Device d;
    HttpResult r = m_http->post("/v1/enrol", json::serialize(json::Object{{"code", issueCode(clinic)},
                                                                           {"name", unique("tablet")}}));
    if (r.status != 200) {
      qWarning("enrolment failed: %d %s", r.status, r.body.c_str());
      return d;
    }
    json::Value v = parseJson(r.body);
    d.id = str(v, "device_id");
    d.secret = str(v, "device_secret");
    d.replica = str(v, "replica_id");
    d.clinic = str(v, "clinic");
    return d;
  }

  // One op writing `field` of `patient`, made on `replica` by `author`
  // against `doc`. Numbering continues per replica.
  crdt::Op makeOp(const std::string& replica, const std::string& author, crdt::ChartDocument& doc,
                  crdt::FieldId field, const std::string& value) {
    testing::FakeWallClock clock(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    std::uint64_t& next = m_nextSeq[replica];
    if (next == 0) next = 1;
    crdt::OpFactory factory(crdt::ReplicaId{std::stoull(replica)}, clock, next);
    factory.setUser(author);
    crdt::Op op = factory.writeField(doc, demographic(field), crdt::Value(value));
    next = factory.nextSeq();
    return op;
  }

  crdt::ChartDocument& docOf(const std::string& patient) {
    auto& d = m_docs[patient];
    if (!d) d = std::make_unique<crdt::ChartDocument>(patient);
    return *d;
  }

  // A push body for `patient` as the caller's device would send it.
  std::string pushBody(const Caller& c, const std::string& patient, int* counter = nullptr) {
    std::string replica = c.replica.empty() ? m_d1.replica : c.replica;
    std::string author = c.userId.empty() ? std::string("nurse") : c.userId;
    crdt::Op op = makeOp(replica, author, docOf(patient), crdt::field::kPhone,
                         "555-" + std::to_string(counter ? ++*counter : ++m_unique));
    return crdt::encodeBatch(std::vector<crdt::Op>{op});
  }

  // Pushes one op for `patient` through a device and session; true when stored.
  bool pushAs(const Device& d, const std::string& token, const std::string& user, const std::string& patient) {
    crdt::Op op = makeOp(d.replica, user, docOf(patient), crdt::field::kFamilyName, unique("Family"));
    HttpResult r = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{op}),
                                d.header() + bearer(token), kOps);
    bool stored = r.status == 200 && num(parseJson(r.body), "stored") == 1;
    if (!stored) {
      qWarning("push for %s failed: %d %s", patient.c_str(), r.status, r.body.c_str());
      return false;
    }
    (void)docOf(patient).apply(op);
    m_patientClinic[patient] = d.clinic;
    return true;
  }

  // Charts a birth date and an identifier for `patient`, by which
  // break-glass finds it; true when both were stored.
  bool chartIdentifier(const Device& d, const std::string& token, const std::string& user, const std::string& patient,
                       const std::string& identifier) {
    crdt::ChartDocument& doc = docOf(patient);
    crdt::Op birth = makeOp(d.replica, user, doc, crdt::field::kBirthDate, kBirthDate);
    (void)doc.apply(birth);
    testing::FakeWallClock clock(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    std::uint64_t& next = m_nextSeq[d.replica];
    crdt::OpFactory factory(crdt::ReplicaId{std::stoull(d.replica)}, clock, next);
    factory.setUser(user);
    crdt::Op id = factory.addEntry(doc, crdt::Collection::kIdentifiers,
                                   {{crdt::field::kIdentifierValue, crdt::Value(identifier)}});
    next = factory.nextSeq();
    (void)doc.apply(id);
    HttpResult r = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{birth, id}),
                                d.header() + bearer(token), kOps);
    bool stored = r.status == 200 && num(parseJson(r.body), "stored") == 2;
    if (!stored) qWarning("charting an identifier for %s failed: %d %s", patient.c_str(), r.status, r.body.c_str());
    return stored;
  }

  // Two devices of `clinic` write different birth dates for a new patient
  // while offline: a clinical conflict. Returns its id.
  std::string makeConflict(const std::string& clinic) {
    bool own = clinic == kOwn;
    const Device& a = own ? m_d1 : m_o1;
    const Device& b = own ? m_d2 : m_o2;
    const std::string& ta = own ? m_nurseTok : m_nurseOtherTok;
    const std::string& tb = own ? m_nurseD2Tok : m_nurseOtherO2Tok;
    const std::string user = own ? "nurse" : "authz-nurse-other";
    const std::string patient = unique("conflict-" + clinic);
    crdt::ChartDocument da(patient), db(patient);
    crdt::Op base = makeOp(a.replica, user, da, crdt::field::kFamilyName, "Nakamura");
    (void)da.apply(base);
    (void)db.apply(base);
    crdt::Op x = makeOp(a.replica, user, da, crdt::field::kBirthDate, "1950-03-01");
    crdt::Op y = makeOp(b.replica, user, db, crdt::field::kBirthDate, "1950-01-03");
    HttpResult p1 = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{base, x}),
                                 a.header() + bearer(ta), kOps);
    HttpResult p2 = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{y}),
                                 b.header() + bearer(tb), kOps);
    if (p1.status != 200 || p2.status != 200) {
      qWarning("conflict pushes failed: %d %s / %d %s", p1.status, p1.body.c_str(), p2.status, p2.body.c_str());
      return {};
    }
    m_patientClinic[patient] = clinic;
    HttpResult list = m_http->get("/v1/admin/conflicts?patient=" + patient, bearer(m_sysToken));
    json::Value v = parseJson(list.body);
    const json::Value* conflicts = v.find("conflicts");
    if (!conflicts || !conflicts->asArray() || conflicts->asArray()->size() != 1) {
      qWarning("no conflict listed for %s: %s", patient.c_str(), list.body.c_str());
      return {};
    }
    return str((*conflicts->asArray())[0], "id");
  }

  // Sets every session of `user` to have expired long ago, straight in the store.
  bool expireSessions(const std::string& user) {
    auto db = kPostgres ? server::Database::openPostgres(m_server.config.postgres, 1)
                        : server::Database::openSqlite(m_server.config.data + "/charta.db", 1);
    if (!db.isOk()) {
      qWarning("cannot open the store: %s", db.status().toString().c_str());
      return false;
    }
    auto lease = db.value()->acquire();
    if (!lease.isOk()) return false;
    std::vector<server::DbValue> params{std::string(user)};
    server::Status s = lease.value()->exec("UPDATE sessions SET expires_at = 1 WHERE user_id = $1", params);
    if (!s.isOk()) qWarning("cannot expire sessions: %s", s.toString().c_str());
    return s.isOk();
  }

  // ---- the fixture ----

  void setUpWorld() {
    m_http = std::make_unique<HttpClient>(m_server.url());
    m_sysToken = login({}, "admin", "demo-admin-pass");
    QVERIFY(!m_sysToken.empty());
    QCOMPARE(sysPost("/v1/admin/clinics", json::Object{{"id", kOther}, {"name", "Other clinic"}}).status, 201);
    for (auto [id, role, clinic] : std::initializer_list<std::tuple<const char*, const char*, const char*>>{
             {"authz-ca-demo", "clinic_admin", kOwn},
             {"authz-ca-other", "clinic_admin", kOther},
             {"authz-nurse-other", "nurse", kOther},
             {"authz-revnurse", "nurse", kOwn},
             {"authz-revca", "clinic_admin", kOwn},
             {"authz-expnurse", "nurse", kOwn},
             {"authz-expsys", "sysadmin", ""},
             {"authz-sentinel-demo", "nurse", kOwn},
             {"authz-sentinel-other", "nurse", kOther},
             {"authz-sentinel-sys", "sysadmin", ""}}) {
      QVERIFY(createUser(id, role, clinic));
    }
    m_sentinelUser = {{"demo", "authz-sentinel-demo"}, {"other", "authz-sentinel-other"}, {"sys", "authz-sentinel-sys"}};

    // The other clinic's admin issues a code for their own clinic: the other
    // clinic's devices come through its own admin.
    std::string caOtherSetup = login({}, "authz-ca-other", kPassword);
    QVERIFY(!caOtherSetup.empty());
    HttpResult code = m_http->post("/v1/admin/enrolment-codes", json::serialize(json::Object{{"clinic", kOther}}),
                                   bearer(caOtherSetup));
    QCOMPARE(code.status, 201);
    HttpResult enrolled = m_http->post(
        "/v1/enrol", json::serialize(json::Object{{"code", str(parseJson(code.body), "code")}, {"name", "other-1"}}));
    QCOMPARE(enrolled.status, 200);
    json::Value ev = parseJson(enrolled.body);
    m_o1 = Device{str(ev, "device_id"), str(ev, "device_secret"), str(ev, "replica_id"), str(ev, "clinic")};
    QCOMPARE(QString::fromStdString(m_o1.clinic), QString(kOther));

    m_d1 = enrol(kOwn);
    m_d2 = enrol(kOwn);
    m_d3 = enrol(kOwn);
    m_o2 = enrol(kOther);
    m_sentinelDevice = {{"demo", enrol(kOwn)}, {"other", enrol(kOther)}};
    for (const Device* d : {&m_d1, &m_d2, &m_d3, &m_o2, &m_sentinelDevice["demo"], &m_sentinelDevice["other"]}) {
      QVERIFY(!d->id.empty());
    }

    m_nurseTok = login(m_d1.header(), "nurse", "demo-nurse-pass");
    m_nurseD2Tok = login(m_d2.header(), "nurse", "demo-nurse-pass");
    m_nurseOtherTok = login(m_o1.header(), "authz-nurse-other", kPassword);
    m_nurseOtherO2Tok = login(m_o2.header(), "authz-nurse-other", kPassword);
    m_caOwnTok = login({}, "authz-ca-demo", kPassword);
    m_caOtherTok = login({}, "authz-ca-other", kPassword);
    m_caOwnDevTok = login(m_d1.header(), "authz-ca-demo", kPassword);
    std::string d3Tok = login(m_d3.header(), "nurse", "demo-nurse-pass");
    std::string revNurseTok = login(m_d1.header(), "authz-revnurse", kPassword);
    std::string revCaTok = login({}, "authz-revca", kPassword);
    std::string expNurseTok = login(m_d1.header(), "authz-expnurse", kPassword);
    std::string expSysTok = login({}, "authz-expsys", kPassword);
    std::string loggedOutTok = login({}, "authz-ca-demo", kPassword);
    for (const std::string* t : {&m_nurseTok, &m_nurseD2Tok, &m_nurseOtherTok, &m_nurseOtherO2Tok, &m_caOwnTok,
                                 &m_caOtherTok, &m_caOwnDevTok, &d3Tok, &revNurseTok, &revCaTok, &expNurseTok,
                                 &expSysTok, &loggedOutTok}) {
      QVERIFY(!t->empty());
    }

    // Charts in each clinic.
    QVERIFY(pushAs(m_d1, m_nurseTok, "nurse", "pt-demo"));
    QVERIFY(pushAs(m_o1, m_nurseOtherTok, "authz-nurse-other", "pt-other"));
    QVERIFY(chartIdentifier(m_d1, m_nurseTok, "nurse", "pt-demo", "AUTHZ-DEMO-1"));
    QVERIFY(chartIdentifier(m_o1, m_nurseOtherTok, "authz-nurse-other", "pt-other", "AUTHZ-OTHER-1"));
    // A complete one-chunk attachment of each clinic's patient.
    for (const auto& [d, token, patient] :
         {std::tuple<const Device&, const std::string&, std::string>{m_d1, m_nurseTok, "pt-demo"},
          {m_o1, m_nurseOtherTok, "pt-other"}}) {
      const HeaderList h = d.header() + bearer(token);
      const std::string base = "/v1/sync/patients/" + patient + "/attachments/" + kAttachmentHash;
      HttpResult declared =
          m_http->request("PUT", base,
                          json::serialize(json::Object{{"size", static_cast<std::int64_t>(kAttachment.size())},
                                                       {"media_type", "image/jpeg"}}),
                          h);
      QVERIFY2(declared.status == 200, declared.body.c_str());
      HttpResult sent = m_http->request("PUT", base + "/chunks/0", kAttachment, h, "application/octet-stream");
      QVERIFY2(sent.status == 200 && str(parseJson(sent.body), "state") == "complete", sent.body.c_str());
    }
    QVERIFY(pushAs(m_d1, m_nurseTok, "nurse", "pt-move-demo"));
    QVERIFY(pushAs(m_o1, m_nurseOtherTok, "authz-nurse-other", "pt-move-other"));
    m_sentinelMovable = {{"demo", "pt-move-demo"}, {"other", "pt-move-other"}};
    m_sentinelConflict = {{"demo", makeConflict(kOwn)}, {"other", makeConflict(kOther)}};
    // A patient's portal account, linked to pt-demo.
    QVERIFY(m_http
                ->post("/v1/me/accept", json::serialize(json::Object{{"code", portalInvitation("pt-demo")},
                                                                     {"username", "authz-patient"},
                                                                     {"passphrase", kPassword}}))
                .status == 201);
    QVERIFY(!m_sentinelConflict["demo"].empty() && !m_sentinelConflict["other"].empty());

    // Spoil the credentials that must be refused.
    QCOMPARE(sysPost("/v1/admin/devices/" + m_d3.id + "/revoke", json::Object{}).status, 200);
    QCOMPARE(sysPost("/v1/admin/users/authz-revnurse/revoke", json::Object{}).status, 200);
    QCOMPARE(sysPost("/v1/admin/users/authz-revca/revoke", json::Object{}).status, 200);
    QVERIFY(expireSessions("authz-expnurse"));
    QVERIFY(expireSessions("authz-expsys"));
    QCOMPARE(m_http->post("/v1/logout", "{}", bearer(loggedOutTok)).status, 200);

    setUpCallers(d3Tok, revNurseTok, revCaTok, expNurseTok, expSysTok, loggedOutTok);
    setUpRows();
  }

  void setUpCallers(const std::string& d3Tok, const std::string& revNurseTok, const std::string& revCaTok,
                    const std::string& expNurseTok, const std::string& expSysTok, const std::string& loggedOutTok) {
    const Device d1 = m_d1, d2 = m_d2, d3 = m_d3, o1 = m_o1;
    auto relogin = [this](Device d, std::string user, std::string password, bool onDevice) {
      return [this, d, user, password, onDevice] {
        HeaderList dev = onDevice ? d.header() : HeaderList{};
        return dev + bearer(login(dev, user, password));
      };
    };
    auto& c = m_callers;
    c.push_back({"anonymous", {}, 0, Who::kNobody, "", "", "", "", nullptr});
    c.push_back({"nurse@demo on own device", d1.header() + bearer(m_nurseTok), 0, Who::kNurse, "nurse", kOwn, kOwn,
                 d1.replica, relogin(d1, "nurse", "demo-nurse-pass", true)});
    c.push_back({"nurse@demo session with another demo device", d2.header() + bearer(m_nurseTok), 401, Who::kNobody,
                 "nurse", "", "", d2.replica, nullptr});
    c.push_back({"nurse@demo session with an other-clinic device", o1.header() + bearer(m_nurseTok), 401,
                 Who::kNobody, "nurse", "", "", o1.replica, nullptr});
    c.push_back({"nurse@demo session without its device", bearer(m_nurseTok), 401, Who::kNobody, "nurse", "", "", "",
                 nullptr});
    c.push_back({"nurse@other on own device", o1.header() + bearer(m_nurseOtherTok), 0, Who::kNurse,
                 "authz-nurse-other", kOther, kOther, o1.replica,
                 relogin(o1, "authz-nurse-other", kPassword, true)});
    c.push_back({"clinic_admin@demo", bearer(m_caOwnTok), 0, Who::kClinicAdmin, "authz-ca-demo", kOwn, "", "",
                 relogin(d1, "authz-ca-demo", kPassword, false)});
    c.push_back({"clinic_admin@other", bearer(m_caOtherTok), 0, Who::kClinicAdmin, "authz-ca-other", kOther, "", "",
                 relogin(d1, "authz-ca-other", kPassword, false)});
    c.push_back({"clinic_admin@demo on a demo device", d1.header() + bearer(m_caOwnDevTok), 0, Who::kClinicAdmin,
                 "authz-ca-demo", kOwn, kOwn, d1.replica, relogin(d1, "authz-ca-demo", kPassword, true)});
    c.push_back({"clinic_admin@other with a demo device", d1.header() + bearer(m_caOtherTok), 0, Who::kClinicAdmin,
                 "authz-ca-other", kOther, kOwn, d1.replica, [this, d1] {
                   return d1.header() + bearer(login({}, "authz-ca-other", kPassword));
                 }});
    c.push_back({"sysadmin", bearer(m_sysToken), 0, Who::kSysadmin, "admin", "", "", "",
                 relogin(d1, "admin", "demo-admin-pass", false)});
    c.push_back({"sysadmin with a demo device", d1.header() + bearer(m_sysToken), 0, Who::kSysadmin, "admin", "", kOwn,
                 d1.replica, [this, d1] { return d1.header() + bearer(login({}, "admin", "demo-admin-pass")); }});
    c.push_back({"revoked device", d3.header(), 410, Who::kNobody, "", "", "", d3.replica, nullptr});
    c.push_back({"revoked device with its former session", d3.header() + bearer(d3Tok), 410, Who::kNobody, "nurse",
                 "", "", d3.replica, nullptr});
    c.push_back({"former session of a revoked device, alone", bearer(d3Tok), 401, Who::kNobody, "nurse", "", "", "",
                 nullptr});
    c.push_back({"revoked nurse's session on its device", d1.header() + bearer(revNurseTok), 401, Who::kNobody,
                 "authz-revnurse", "", "", d1.replica, nullptr});
    c.push_back({"revoked clinic admin's session", bearer(revCaTok), 401, Who::kNobody, "authz-revca", "", "", "",
                 nullptr});
    c.push_back({"expired nurse session on its device", d1.header() + bearer(expNurseTok), 401, Who::kNobody,
                 "authz-expnurse", "", "", d1.replica, nullptr});
    c.push_back({"expired sysadmin session", bearer(expSysTok), 401, Who::kNobody, "authz-expsys", "", "", "",
                 nullptr});
    c.push_back({"garbage token", bearer("not-a-session-token"), 401, Who::kNobody, "", "", "", "", nullptr});
    c.push_back({"garbage token on a demo device", d1.header() + bearer("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                 401, Who::kNobody, "", "", "", d1.replica, nullptr});
    c.push_back({"Authorization that is not Bearer", {{"Authorization", "Basic YWRtaW46ZGVtby1hZG1pbi1wYXNz"}}, 401,
                 Who::kNobody, "", "", "", "", nullptr});
    c.push_back({"ended (logged-out) session", bearer(loggedOutTok), 401, Who::kNobody, "authz-ca-demo", "", "", "",
                 nullptr});
    c.push_back({"device credential without a session", d1.header(), 0, Who::kNobody, "", "", kOwn, d1.replica,
                 nullptr});
    c.push_back({"device credential with a wrong secret", {{"X-Charta-Device", d1.id + ":" + std::string(43, 'x')}},
                 401, Who::kNobody, "", "", "", d1.replica, nullptr});
    c.push_back({"malformed device credential", {{"X-Charta-Device", d1.id + d1.secret}}, 401, Who::kNobody, "", "",
                 "", "", nullptr});
    c.push_back({"unknown device id", {{"X-Charta-Device", "dev-unknown:" + d1.secret}}, 401, Who::kNobody, "", "",
                 "", "", nullptr});
    // The console's cookie.
    auto console = [this](bool withCsrf) {
      return [this, withCsrf] { return consoleSession("admin", "demo-admin-pass", withCsrf); };
    };
    c.push_back({"sysadmin console cookie with its CSRF token", console(true)(), 0, Who::kSysadmin, "admin", "", "", "",
                 console(true), true, true});
    c.push_back({"sysadmin console cookie without the CSRF token", console(false)(), 0, Who::kSysadmin, "admin", "", "",
                 "", console(false), true, false});
    c.push_back({"clinic admin's session in the console cookie", inCookie(m_caOwnTok), 401, Who::kNobody,
                 "authz-ca-demo", "", "", "", nullptr, true, false});
    c.push_back({"a device's session in the console cookie", inCookie(m_nurseTok), 401, Who::kNobody, "nurse", "", "",
                 "", nullptr, true, false});
    c.push_back({"expired sysadmin session in the console cookie", inCookie(expSysTok), 401, Who::kNobody,
                 "authz-expsys", "", "", "", nullptr, true, false});
    c.push_back({"ended session in the console cookie", inCookie(loggedOutTok), 401, Who::kNobody, "authz-ca-demo", "",
                 "", "", nullptr, true, false});
    c.push_back({"garbage console cookie", inCookie("not-a-session-token"), 401, Who::kNobody, "", "", "", "", nullptr,
                 true, false});
  }

  // The status a clinic admin (or a sysadmin) gets acting on `clinic`.
  static int clinicScoped(const Caller& c, const std::string& clinic) {
    if (c.who == Who::kSysadmin) return 200;
    return c.userClinic == clinic ? 200 : 403;
  }

  void setUpRows() {
    auto& rows = m_rows;
    auto ok200 = [](const Caller&) { return 200; };
    auto get = [](std::string path) {
      return [path](const Caller&, bool) { return Request{"GET", path, {}, "application/json"}; };
    };
    auto post = [](std::string path, std::string body) {
      return [path, body](const Caller&, bool) { return Request{"POST", path, body, "application/json"}; };
    };

    // Public.
    rows.push_back({"GET /healthz", "", Need::kNothing, get("/healthz"), ok200, nullptr, nullptr});
    rows.push_back({"GET /metrics", "", Need::kNothing, get("/metrics"), ok200, nullptr, nullptr});
    for (std::string clinic : {kOwn, kOther}) {
      rows.push_back({"POST /v1/enrol", "code of " + clinic, Need::kNothing,
                      [this, clinic](const Caller&, bool) {
                        return Request{"POST", "/v1/enrol",
                                       json::serialize(json::Object{{"code", issueCode(clinic)}, {"name", unique("t")}})};
                      },
                      ok200, nullptr, nullptr});
    }
    struct LoginTarget {
      std::string label, user, password;
      Who role;
      std::string clinic;
    };
    for (const LoginTarget& t : std::vector<LoginTarget>{
             {"nurse@demo", "nurse", "demo-nurse-pass", Who::kNurse, kOwn},
             {"nurse@other", "authz-nurse-other", kPassword, Who::kNurse, kOther},
             {"clinic_admin@demo", "authz-ca-demo", kPassword, Who::kClinicAdmin, kOwn},
             {"clinic_admin@other", "authz-ca-other", kPassword, Who::kClinicAdmin, kOther},
             {"sysadmin", "admin", "demo-admin-pass", Who::kSysadmin, ""}}) {
      rows.push_back({"POST /v1/login", "as " + t.label, Need::kNothing,
                      post("/v1/login", json::serialize(json::Object{{"username", t.user}, {"password", t.password}})),
                      [t](const Caller& c) {
                        if (c.deviceClinic.empty()) return t.role == Who::kNurse ? 403 : 200;
                        if (t.role == Who::kSysadmin) return 403;
                        return t.clinic == c.deviceClinic ? 200 : 403;
                      },
                      nullptr, nullptr});
    }

    // The console: page, files, sign-in.
    rows.push_back({"GET /admin", "", Need::kNothing, get("/admin"), ok200, nullptr, nullptr});
    rows.push_back(
        {"GET /admin/{file}", "console.js", Need::kNothing, get("/admin/console.js"), ok200, nullptr, nullptr});
    for (const LoginTarget& t :
         std::vector<LoginTarget>{{"sysadmin", "admin", "demo-admin-pass", Who::kSysadmin, ""},
                                  {"clinic_admin@demo", "authz-ca-demo", kPassword, Who::kClinicAdmin, kOwn}}) {
      rows.push_back(
          {"POST /v1/console/session", "as " + t.label, Need::kNothing,
           post("/v1/console/session", json::serialize(json::Object{{"username", t.user}, {"password", t.password}})),
           [t](const Caller& c) { return t.role == Who::kSysadmin && c.deviceClinic.empty() ? 200 : 403; }, nullptr,
           nullptr});
    }
    rows.push_back({"GET /v1/console/session", "", Need::kSession, get("/v1/console/session"),
                    [](const Caller& c) { return c.cookie ? 200 : 401; }, nullptr, nullptr});

    // Session.
    rows.push_back({"POST /v1/session/refresh", "", Need::kSession, post("/v1/session/refresh", "{}"), ok200, nullptr,
                    nullptr});

    // Sync.
    for (std::string target : {"new patient", "patient of demo", "patient of other"}) {
      std::string patient = target == "patient of demo" ? "pt-demo" : (target == "patient of other" ? "pt-other" : "");
      rows.push_back(
          {"POST /v1/sync/push", target, Need::kSync,
           [this, patient](const Caller& c, bool) {
             std::string p = patient.empty() ? unique("pt-new") : patient;
             return Request{"POST", "/v1/sync/push", pushBody(c, p), kOps};
           },
           ok200,
           [this, patient](const Caller& c, const json::Value& v) -> std::string {
             const json::Value* rejected = v.find("rejected");
             bool foreign = !patient.empty() && m_patientClinic[patient] != c.deviceClinic;
             if (foreign && num(v, "stored") != 0) return "stored an op for a patient of another clinic";
             if (foreign && (!rejected || !rejected->asArray() || rejected->asArray()->size() != 1)) {
               return "the op for another clinic's patient is not reported rejected";
             }
             return {};
           },
           [this, patient](const Caller& c, const Request& req, const HttpResult& r) {
             if (r.status != 200 || num(parseJson(r.body), "stored") != 1) return;
             auto ops = crdt::decodeBatch(req.body);
             if (!ops.isOk()) return;
             for (const crdt::Op& op : ops.value()) {
               (void)docOf(op.patient).apply(op);
               if (patient.empty()) m_patientClinic[op.patient] = c.deviceClinic;
             }
           }});
    }
    for (std::string target : {"whole clinic", "patient of demo", "patient of other"}) {
      std::string patient = target == "patient of demo" ? "pt-demo" : (target == "patient of other" ? "pt-other" : "");
      rows.push_back(
          {"GET /v1/sync/pull", target, Need::kSync,
           get("/v1/sync/pull?since=0" + (patient.empty() ? std::string() : "&patient=" + patient)),
           [this, patient](const Caller& c) {
             return patient.empty() || m_patientClinic[patient] == c.deviceClinic ? 200 : 404;
           },
           [this](const Caller& c, const json::Value& v) -> std::string {
             const json::Value* ops = v.find("ops");
             if (!ops || !ops->asArray()) return {};
             for (const json::Value& encoded : *ops->asArray()) {
               auto op = crdt::decodeOp(TabletClient::server_base64(encoded.asString() ? *encoded.asString() : ""));
               if (!op.isOk()) return "an op that does not decode";
               auto it = m_patientClinic.find(op.value().patient);
               if (it != m_patientClinic.end() && it->second != c.deviceClinic) {
                 return "an op of " + op.value().patient + " (clinic " + it->second + ")";
               }
             }
             return {};
           },
           nullptr});
    }
    rows.push_back({"POST /v1/sync/report", "", Need::kSync,
                    post("/v1/sync/report", json::serialize(json::Object{{"pending_ops", 0}})), ok200, nullptr,
                    nullptr});
    for (bool ownUser : {true, false}) {
      rows.push_back(
          {"POST /v1/sync/audit",
           ownUser ? "recorded by a user of the device's clinic" : "recorded by another clinic's user", Need::kSync,
           [this, ownUser](const Caller& c, bool) {
             // The next seq of the device named, so a call that gets through is judged on its user alone.
             std::string user = c.userId.empty() ? std::string("nurse") : c.userId;
             if (!ownUser) user = c.deviceClinic == kOther ? "nurse" : "authz-nurse-other";
             json::Object event{{"seq", m_auditAcked[c.replica] + 1},
                                {"at", static_cast<std::int64_t>(QDateTime::currentMSecsSinceEpoch())},
                                {"user", user},
                                {"action", "chart.read"},
                                {"patient", "pt-demo"},
                                {"detail", "{}"}};
             return Request{"POST", "/v1/sync/audit", json::serialize(json::Object{{"events", json::Array{event}}})};
           },
           [ownUser](const Caller&) { return ownUser ? 200 : 400; }, nullptr,
           [this](const Caller& c, const Request&, const HttpResult& r) {
             if (r.status == 200) m_auditAcked[c.replica] = num(parseJson(r.body), "acked");
           }});
    }

    for (std::string target : {"patient of demo", "patient of other"}) {
      std::string patient = target == "patient of demo" ? "pt-demo" : "pt-other";
      std::string identifier = target == "patient of demo" ? "authz-demo-1" : "authz-other-1";
      rows.push_back({"POST /v1/sync/break-glass", target, Need::kSync,
                      post("/v1/sync/break-glass", json::serialize(json::Object{{"identifier", identifier},
                                                                                {"birth_date", kBirthDate},
                                                                                {"reason", "found unconscious"}})),
                      ok200,
                      [this, patient](const Caller& c, const json::Value& v) -> std::string {
                        bool foreign = m_patientClinic[patient] != c.deviceClinic;
                        bool inScope = v.find("in_scope") && v.find("in_scope")->asBool().value_or(false);
                        const json::Value* ops = v.find("ops");
                        std::size_t n = ops && ops->asArray() ? ops->asArray()->size() : 0;
                        if (foreign && inScope) return "another clinic's patient answered as in scope";
                        if (!foreign && (!inScope || n != 0)) return "an own-clinic patient handed out as a copy";
                        if (str(v, "patient") != patient) return "answered patient " + str(v, "patient");
                        return {};
                      },
                      nullptr});
    }

    // Sysadmin: clinics, activity.
    rows.push_back({"GET /v1/admin/clinics", "", Need::kSysadmin, get("/v1/admin/clinics"), ok200, nullptr, nullptr});
    rows.push_back({"GET /v1/admin/activity", "", Need::kSysadmin, get("/v1/admin/activity"), ok200, nullptr, nullptr});
    rows.push_back({"POST /v1/admin/clinics", "new clinic", Need::kSysadmin,
                    [this](const Caller&, bool) {
                      return Request{"POST", "/v1/admin/clinics",
                                     json::serialize(json::Object{{"id", unique("clinic")}, {"name", "A clinic"}})};
                    },
                    [](const Caller&) { return 201; }, nullptr, nullptr});

    // Admin: users, codes, devices, scoped to a clinic for clinic admins.
    auto onlyOwnClinic = [](const char* listKey) {
      return [listKey](const Caller& c, const json::Value& v) -> std::string {
        if (c.who != Who::kClinicAdmin) return {};
        const json::Value* list = v.find(listKey);
        if (!list || !list->asArray()) return {};
        for (const json::Value& item : *list->asArray()) {
          if (str(item, "clinic") != c.userClinic) {
            return std::string("listed ") + listKey + " " + str(item, "id") + " of clinic '" + str(item, "clinic") + "'";
          }
        }
        return {};
      };
    };
    for (const char* what : {"users", "devices"}) {
      for (std::string clinic : {"", kOwn, kOther}) {
        rows.push_back({std::string("GET /v1/admin/") + what, clinic.empty() ? "all" : "clinic=" + clinic,
                        Need::kAdmin,
                        get(std::string("/v1/admin/") + what + (clinic.empty() ? "" : "?clinic=" + clinic)),
                        [clinic](const Caller& c) { return clinic.empty() ? 200 : clinicScoped(c, clinic); },
                        onlyOwnClinic(what), nullptr});
      }
    }
    struct NewUser {
      std::string label, role, clinic;
    };
    for (const NewUser& u : std::vector<NewUser>{{"nurse@demo", "nurse", kOwn},
                                                 {"nurse@other", "nurse", kOther},
                                                 {"clinic_admin@demo", "clinic_admin", kOwn},
                                                 {"clinic_admin@other", "clinic_admin", kOther},
                                                 {"sysadmin", "sysadmin", ""}}) {
      rows.push_back({"POST /v1/admin/users", "create " + u.label, Need::kAdmin,
                      [this, u](const Caller&, bool) {
                        json::Object body{{"id", unique("authz-user")}, {"role", u.role}, {"password", kPassword}};
                        if (!u.clinic.empty()) body.emplace_back("clinic", u.clinic);
                        return Request{"POST", "/v1/admin/users", json::serialize(body)};
                      },
                      [u](const Caller& c) {
                        if (c.who == Who::kSysadmin) return 201;
                        return u.role != "sysadmin" && u.clinic == c.userClinic ? 201 : 403;
                      },
                      nullptr, nullptr});
    }
    for (std::string target : {"demo", "other", "sys", "missing"}) {
      std::string label = target == "demo"    ? "nurse@demo"
                          : target == "other" ? "nurse@other"
                          : target == "sys"   ? "a sysadmin"
                                              : "an unknown user";
      rows.push_back({"POST /v1/admin/users/{id}/revoke", label, Need::kAdmin,
                      [this, target](const Caller&, bool success) {
                        std::string id = "authz-no-such-user";
                        if (target != "missing") {
                          id = m_sentinelUser[target];
                          if (success) {
                            id = unique("authz-victim");
                            createUser(id, target == "sys" ? "sysadmin" : "nurse", target == "sys" ? "" : target);
                          }
                        }
                        return Request{"POST", "/v1/admin/users/" + id + "/revoke", "{}"};
                      },
                      [target](const Caller& c) {
                        if (target == "missing") return 404;
                        if (c.who == Who::kSysadmin) return 200;
                        return target != "sys" && target == c.userClinic ? 200 : 403;
                      },
                      nullptr, nullptr});
    }
    for (std::string clinic : {kOwn, kOther, "nowhere"}) {
      rows.push_back({"POST /v1/admin/enrolment-codes", "clinic " + clinic, Need::kAdmin,
                      post("/v1/admin/enrolment-codes", json::serialize(json::Object{{"clinic", clinic}})),
                      [clinic](const Caller& c) {
                        if (c.who == Who::kSysadmin) return clinic == "nowhere" ? 404 : 201;
                        return clinic == c.userClinic ? 201 : 403;
                      },
                      nullptr, nullptr});
    }
    for (std::string target : {"demo", "other", "missing"}) {
      rows.push_back({"POST /v1/admin/devices/{id}/revoke",
                      target == "missing" ? "an unknown device" : "device@" + target, Need::kAdmin,
                      [this, target](const Caller&, bool success) {
                        std::string id = "dev-no-such-device";
                        if (target != "missing") id = success ? enrol(target).id : m_sentinelDevice[target].id;
                        return Request{"POST", "/v1/admin/devices/" + id + "/revoke", "{}"};
                      },
                      [target](const Caller& c) { return target == "missing" ? 404 : clinicScoped(c, target); },
                      nullptr, nullptr});
    }

    // Sysadmin: conflicts, audit, patients.
    for (std::string clinic : {"", kOwn, kOther}) {
      rows.push_back({"GET /v1/admin/conflicts", clinic.empty() ? "all" : "clinic=" + clinic, Need::kSysadmin,
                      get("/v1/admin/conflicts" + (clinic.empty() ? std::string() : "?clinic=" + clinic)), ok200,
                      nullptr, nullptr});
    }
    for (std::string clinic : {kOwn, kOther}) {
      rows.push_back({"POST /v1/admin/conflicts/resolve", "conflict@" + clinic, Need::kSysadmin,
                      [this, clinic](const Caller&, bool success) {
                        std::string id = success ? makeConflict(clinic) : m_sentinelConflict[clinic];
                        return Request{"POST", "/v1/admin/conflicts/resolve",
                                       json::serialize(json::Object{{"id", id}, {"value", "1950-03-01"},
                                                                    {"reason", "checked the passport"}})};
                      },
                      ok200, nullptr, nullptr});
    }
    rows.push_back({"GET /v1/admin/audit", "", Need::kSysadmin, get("/v1/admin/audit?limit=5"), ok200, nullptr,
                    nullptr});
    rows.push_back({"POST /v1/admin/audit/verify", "", Need::kSysadmin, post("/v1/admin/audit/verify", "{}"), ok200,
                    nullptr, nullptr});
    for (std::string from : {kOwn, kOther}) {
      std::string to = from == kOwn ? kOther : kOwn;
      rows.push_back({"POST /v1/admin/patients/move", "patient of " + from + " to " + to, Need::kSysadmin,
                      [this, from, to](const Caller&, bool success) {
                        std::string patient = m_sentinelMovable[from];
                        if (success) {
                          patient = unique("pt-moved");
                          if (from == kOwn) {
                            pushAs(m_d1, m_nurseTok, "nurse", patient);
                          } else {
                            pushAs(m_o1, m_nurseOtherTok, "authz-nurse-other", patient);
                          }
                        }
                        return Request{"POST", "/v1/admin/patients/move",
                                       json::serialize(json::Object{{"patient", patient}, {"clinic", to}})};
                      },
                      ok200, nullptr,
                      [this, to](const Caller&, const Request& req, const HttpResult& r) {
                        if (r.status == 200) m_patientClinic[str(parseJson(req.body), "patient")] = to;
                      }});
    }

    // FHIR import: a one-patient Bundle with a new patient id each time.
    for (std::string clinic : {kOwn, kOther, "nowhere"}) {
      rows.push_back({"POST /v1/admin/fhir/import", "clinic " + clinic, Need::kAdmin,
                      [this, clinic](const Caller&, bool) {
                        json::Value patient = json::Object{{"resourceType", "Patient"},
                                                           {"id", unique("fhir-authz")},
                                                           {"gender", "female"},
                                                           {"birthDate", "1990-04-01"}};
                        json::Value bundle = json::Object{
                            {"resourceType", "Bundle"},
                            {"type", "collection"},
                            {"entry", json::Array{json::Object{{"resource", std::move(patient)}}}}};
                        return Request{"POST", "/v1/admin/fhir/import?clinic=" + clinic, json::serialize(bundle)};
                      },
                      [clinic](const Caller& c) {
                        if (c.who == Who::kSysadmin) return clinic == "nowhere" ? 404 : 200;
                        return clinic == c.userClinic ? 200 : 403;
                      },
                      nullptr, nullptr});
    }

    // FHIR export of one chart: a clinic admin sees only their clinic's
    // patients (another clinic's is "not found", so ids are not confirmed).
    for (std::string clinic : {kOwn, kOther}) {
      const std::string patient = clinic == kOwn ? "pt-demo" : "pt-other";
      rows.push_back({"GET /fhir/Patient/{id}/$everything", "patient of " + clinic, Need::kAdmin,
                      get("/fhir/Patient/" + patient + "/$everything"),
                      [clinic](const Caller& c) {
                        if (c.who == Who::kSysadmin) return 200;
                        return clinic == c.userClinic ? 200 : 404;
                      },
                      nullptr, nullptr});
    }

    // The patient portal. Staff credentials are not a portal session: its
    // reads answer 401 to everyone here (tests/server/api/portal_test.cpp
    // has the portal's own access matrix); accepting an invitation and
    // signing in with a patient's passphrase need nothing.
    rows.push_back({"GET /me", "", Need::kNothing, get("/me"), ok200, nullptr, nullptr});
    rows.push_back({"GET /me/{file}", "portal.js", Need::kNothing, get("/me/portal.js"), ok200, nullptr, nullptr});
    rows.push_back({"POST /v1/me/accept", "a new invitation", Need::kNothing,
                    [this](const Caller&, bool) {
                      return Request{"POST", "/v1/me/accept",
                                     json::serialize(json::Object{{"code", portalInvitation("pt-demo")},
                                                                  {"username", unique("patient")},
                                                                  {"passphrase", kPassword}})};
                    },
                    [](const Caller&) { return 201; }, nullptr, nullptr});
    rows.push_back({"POST /v1/me/session", "as the patient", Need::kNothing,
                    post("/v1/me/session",
                         json::serialize(json::Object{{"username", "authz-patient"}, {"passphrase", kPassword}})),
                    ok200, nullptr, nullptr});
    auto noPortalSession = [](const Caller&) { return 401; };
    rows.push_back(
        {"GET /v1/me/session", "", Need::kNothing, get("/v1/me/session"), noPortalSession, nullptr, nullptr});
    rows.push_back(
        {"POST /v1/me/logout", "", Need::kNothing, post("/v1/me/logout", "{}"), noPortalSession, nullptr, nullptr});
    for (const char* what : {"record", "fhir", "access"}) {
      rows.push_back({std::string("GET /v1/me/patients/{id}/") + what, "patient of demo", Need::kNothing,
                      get(std::string("/v1/me/patients/pt-demo/") + what), noPortalSession, nullptr, nullptr});
    }
    for (std::string clinic : {kOwn, kOther}) {
      const std::string patient = clinic == kOwn ? "pt-demo" : "pt-other";
      rows.push_back({"POST /v1/admin/patients/{id}/invitations", "patient of " + clinic, Need::kAdmin,
                      post("/v1/admin/patients/" + patient + "/invitations",
                           json::serialize(json::Object{{"relation", "parent"}, {"name", "A parent"}})),
                      [clinic](const Caller& c) {
                        if (c.who == Who::kSysadmin) return 201;
                        return clinic == c.userClinic ? 201 : 404;
                      },
                      nullptr, nullptr});
      rows.push_back({"POST /v1/admin/patients/{id}/notes/{note}/sharing", "a note not in the chart of " + clinic,
                      Need::kAdmin,
                      post("/v1/admin/patients/" + patient + "/notes/r999999.1/sharing",
                           json::serialize(json::Object{{"shared", false}, {"reason", "third-party information"}})),
                      [](const Caller&) { return 404; }, nullptr, nullptr});
      rows.push_back(
          {"POST /v1/sync/invitations", "patient of " + clinic, Need::kSync,
           post("/v1/sync/invitations",
                json::serialize(json::Object{{"patient", patient}, {"relation", "guardian"}, {"name", "A guardian"}})),
           [clinic](const Caller& c) { return c.deviceClinic == clinic ? 201 : 404; }, nullptr, nullptr});
    }

    // Attachments of a patient of the device's clinic (404 for another clinic's).
    for (std::string clinic : {kOwn, kOther}) {
      const std::string patient = clinic == kOwn ? "pt-demo" : "pt-other";
      const std::string base = "/v1/sync/patients/" + patient + "/attachments/" + kAttachmentHash;
      auto scoped = [clinic](const Caller& c) { return c.deviceClinic == clinic ? 200 : 404; };
      rows.push_back({"PUT /v1/sync/patients/{id}/attachments/{hash}", "patient of " + clinic, Need::kSync,
                      [base](const Caller&, bool) {
                        return Request{
                            "PUT", base,
                            json::serialize(json::Object{{"size", static_cast<std::int64_t>(kAttachment.size())},
                                                         {"media_type", "image/jpeg"}})};
                      },
                      scoped, nullptr, nullptr});
      rows.push_back({"GET /v1/sync/patients/{id}/attachments/{hash}", "patient of " + clinic, Need::kSync, get(base),
                      scoped, nullptr, nullptr});
      rows.push_back({"PUT /v1/sync/patients/{id}/attachments/{hash}/chunks/{i}", "patient of " + clinic, Need::kSync,
                      [base](const Caller&, bool) {
                        return Request{"PUT", base + "/chunks/0", kAttachment, "application/octet-stream"};
                      },
                      scoped, nullptr, nullptr});
      rows.push_back({"GET /v1/sync/patients/{id}/attachments/{hash}/chunks/{i}", "patient of " + clinic, Need::kSync,
                      get(base + "/chunks/0"), scoped, nullptr, nullptr});
    }
    // A patient without attachments: purging them changes nothing the other rows use.
    rows.push_back({"DELETE /v1/admin/patients/{id}/attachments", "a patient without attachments", Need::kSysadmin,
                    [](const Caller&, bool) {
                      return Request{"DELETE", "/v1/admin/patients/pt-none/attachments", {}};
                    },
                    ok200, nullptr, nullptr});

    // Last: they end the session they are called with (each caller brings a fresh one).
    rows.push_back({"POST /v1/console/logout", "", Need::kSession, post("/v1/console/logout", "{}"),
                    [](const Caller& c) { return c.cookie ? 200 : 401; }, nullptr, nullptr});
    rows.push_back({"POST /v1/logout", "", Need::kSession, post("/v1/logout", "{}"), ok200, nullptr, nullptr});
  }

  // The exact status the rules give one cell.
  static int expected(const Row& row, const Caller& c) {
    // A route that needs nothing checks the credentials in headers, but not the cookie.
    if ((row.need != Need::kNothing || (!c.headers.empty() && !c.cookie)) && c.authFailure != 0) return c.authFailure;
    if (c.cookie && row.need != Need::kNothing && !c.csrf && row.route.rfind("GET ", 0) != 0) return 403;
    bool user = c.who != Who::kNobody;
    switch (row.need) {
      case Need::kNothing:
        break;
      case Need::kSession:
        if (!user) return 401;
        break;
      case Need::kSync:
        if (c.deviceClinic.empty() || !user) return 401;
        if (c.who == Who::kSysadmin || c.userClinic != c.deviceClinic) return 403;
        break;
      case Need::kAdmin:
        if (!user) return 401;
        if (c.who == Who::kNurse) return 403;
        break;
      case Need::kSysadmin:
        if (!user) return 401;
        if (c.who != Who::kSysadmin) return 403;
        break;
    }
    return row.handler(c);
  }

 private slots:
  void initTestCase() {
    QVERIFY2(m_server.start(kPostgres), m_server.error.c_str());
    setUpWorld();
  }

  void matrix() {
    QVERIFY(!m_callers.empty() && !m_rows.empty());
    int cells = 0, unauthorised = 0;
    std::vector<std::string> wrong;
    std::map<int, int> byStatus;
    for (const Row& row : m_rows) {
      for (const Caller& caller : m_callers) {
        int want = expected(row, caller);
        bool endsSession = row.route == "POST /v1/logout" || row.route == "POST /v1/console/logout";
        HeaderList headers = endsSession && caller.fresh && caller.authFailure == 0 ? caller.fresh() : caller.headers;
        Request req = row.build(caller, is2xx(want));
        HttpResult got = send(req, headers);
        if (row.after) row.after(caller, req, got);
        ++cells;
        ++byStatus[want];
        std::string cell = row.route + (row.target.empty() ? "" : " [" + row.target + "]") + " as " + caller.name;
        std::string problem;
        if (got.status != want) {
          problem = "expected " + std::to_string(want) + ", got " + std::to_string(got.status);
          if (is2xx(got.status) && !is2xx(want)) ++unauthorised;
        } else if (is2xx(got.status) && row.leak) {
          json::Value body = parseJson(got.body);
          std::string leak = row.leak(caller, body);
          if (!leak.empty()) {
            problem = "unauthorised data: " + leak;
            ++unauthorised;
          }
        }
        if (!problem.empty()) {
          wrong.push_back(cell + ": " + problem + " " + got.body.substr(0, 200) + got.error);
        }
      }
    }
    for (const std::string& w : wrong) qWarning("%s", w.c_str());
    std::string statuses;
    for (auto [status, n] : byStatus) statuses += " " + std::to_string(status) + "x" + std::to_string(n);
    qInfo("authorisation matrix (%s): %d routes/targets x %zu callers = %d cells (expected:%s); %zu wrong, "
          "%d unauthorised successes",
          kPostgres ? "postgres" : "sqlite", static_cast<int>(m_rows.size()), m_callers.size(), cells,
          statuses.c_str(), wrong.size(), unauthorised);
    QCOMPARE(unauthorised, 0);
    QCOMPARE(static_cast<int>(wrong.size()), 0);
    // Every route of the route table is in the matrix.
    std::set<std::string> routes;
    for (const Row& row : m_rows) routes.insert(row.route);
    QCOMPARE(static_cast<int>(routes.size()), 49);
  }

  // The revoked device is told to wipe (the body, not only the status).
  void revokedDeviceBodySaysWipe() {
    HttpResult r = m_http->get("/v1/sync/pull?since=0", m_d3.header());
    QCOMPARE(r.status, 410);
    QCOMPARE(QString::fromStdString(errorCode(r)), QStringLiteral("device_revoked"));
    QVERIFY(parseJson(r.body).find("wipe") && parseJson(r.body).find("wipe")->asBool().value_or(false));
  }

  // An op's id names the device that made it (its replica id). A device may
  // push only ops under its own replica id: otherwise one tablet can take op
  // ids another tablet will use, and that tablet's genuine ops are then
  // answered "duplicate" and silently never stored.
  void pushedOpsCarryTheDevicesReplica() {
    const std::uint64_t seq = m_nextSeq[m_d2.replica];
    crdt::Op forged = makeOp(m_d2.replica, "nurse", docOf(unique("pt-forged")), crdt::field::kFamilyName, "Forged");
    HttpResult r1 = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{forged}),
                                 m_d1.header() + bearer(m_nurseTok), kOps);
    QCOMPARE(r1.status, 200);
    json::Value v1 = parseJson(r1.body);
    // The device whose replica id it is now writes its own op with that id.
    m_nextSeq[m_d2.replica] = seq;
    crdt::Op genuine = makeOp(m_d2.replica, "nurse", docOf(unique("pt-genuine")), crdt::field::kFamilyName, "Real");
    QVERIFY(genuine.id == forged.id);
    HttpResult r2 = m_http->post("/v1/sync/push", crdt::encodeBatch(std::vector<crdt::Op>{genuine}),
                                 m_d2.header() + bearer(m_nurseD2Tok), kOps);
    QCOMPARE(r2.status, 200);
    json::Value v2 = parseJson(r2.body);
    qInfo("an op under another device's replica id: stored %lld; that device's own op with the id: stored %lld, "
          "duplicates %lld",
          static_cast<long long>(num(v1, "stored")), static_cast<long long>(num(v2, "stored")),
          static_cast<long long>(num(v2, "duplicates")));
    QCOMPARE(num(v1, "stored"), std::int64_t{0});
    QCOMPARE(num(v2, "stored"), std::int64_t{1});
  }
};

QTEST_GUILESS_MAIN(AuthzTest)
#include "authz_test.moc"
