// The patient portal: invitations (issued by a clinic admin, a sysadmin or a
// tablet), patient accounts with a passphrase and an optional time-based code,
// their cookie session, and what a patient (or a parent or guardian) reads:
// the record as FHIR, the immunisations due, and who looked at the chart.
// The page itself is built into the binary like the console's.

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include "api_internal.h"
#include "charta/crdt/clinical_rules.h"
#include "crypto.h"
#include "fhir_export.h"
#include "web_page.h"

// The portal's files, like the console's (web_page.h).
#ifndef CHARTA_PORTAL_DIR
#error "CHARTA_PORTAL_DIR must name the portal's folder"
#endif
CHARTA_EMBED_FILE(charta_portal_html, CHARTA_PORTAL_DIR "/index.html");
CHARTA_EMBED_FILE(charta_portal_js, CHARTA_PORTAL_DIR "/portal.js");
CHARTA_EMBED_FILE(charta_portal_css, CHARTA_PORTAL_DIR "/portal.css");
CHARTA_EMBED_FILE(charta_portal_icon, CHARTA_PORTAL_DIR "/icon.svg");

namespace charta::server {
namespace {

using P = std::vector<DbValue>;

constexpr std::string_view kPortalCookie = "charta_me";
// Patients read on phones that are lent, shared and lost: short sessions.
constexpr std::int64_t kPortalSessionMs = 15 * 60 * 1000;
constexpr std::int64_t kInvitationTtlMs = 14LL * 24 * 3600 * 1000;
constexpr std::size_t kMinPassphrase = 10;
// The newest audit rows an access log shows.
constexpr std::int64_t kAccessLogRows = 500;

std::string portalCsrf(const std::string& token) { return csrfToken("charta.portal.csrf", token); }

// The audit chain's name for a patient's account (never a staff user id).
std::string actorOf(const std::string& account) { return "patient:" + account; }

// User names are compared in lower case.
std::string lowerAscii(std::string s) {
  for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return s;
}

bool validUsername(const std::string& u) {
  if (u.size() < 3 || u.size() > 64) return false;
  for (char c : u) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

bool validRelation(const std::string& r) { return r == "self" || r == "parent" || r == "guardian"; }

std::string textOf(const crdt::Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

std::string patientName(const crdt::ChartDocument& doc) {
  auto field = [&](crdt::FieldId f) {
    const crdt::Register& r = doc.demographic(f);
    return r.empty() ? std::string() : textOf(r.current().value);
  };
  std::string given = field(crdt::field::kGivenNames), family = field(crdt::field::kFamilyName);
  std::string name = given.empty() ? family : (family.empty() ? given : given + " " + family);
  return name.empty() ? doc.patientId() : name;
}

std::string isoDate(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

struct Link {
  std::string patient;
  std::string relation;
};

struct PortalCall {
  std::string account;
  std::string accountName;
  std::string token;
  std::int64_t expiresAt = 0;
  std::vector<Link> links;
};

Result<std::vector<Link>> linksOf(Connection& c, const std::string& account) {
  auto rows =
      c.query("SELECT patient_id, relation FROM portal_links WHERE account_id = $1 ORDER BY created_at, patient_id",
              P{account});
  if (!rows.isOk()) return rows.status();
  std::vector<Link> out;
  for (const DbRow& r : rows.value()) out.push_back({dbText(r[0]), dbText(r[1])});
  return out;
}

HttpResponse portalUnauthorised(std::string_view message) { return errorResponse(401, "unauthenticated", message); }

// The account signed in by the portal's cookie; for a request that is not a
// GET, the CSRF token too. A response when either is missing or wrong.
std::optional<HttpResponse> portalAuth(Api& api, const Api::Call& call, PortalCall& out) {
  const std::string* cookies = call.req.header("cookie");
  auto token = cookies ? cookieValue(*cookies, kPortalCookie) : std::nullopt;
  if (!token) return portalUnauthorised("sign in first");
  std::optional<HttpResponse> error;
  Status s = ApiRoutes::store(api).read([&](Connection& c) -> Status {
    auto rows = c.query(
        "SELECT s.account_id, s.expires_at, a.display_name, a.revoked_at FROM portal_sessions s "
        "JOIN portal_accounts a ON a.id = s.account_id WHERE s.token_hash = $1",
        P{Blob{digest(*token)}});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty() || dbInt(rows.value()[0][1]) < nowMs() || !dbIsNull(rows.value()[0][3])) {
      error = portalUnauthorised("for your safety you were signed out: sign in again");
      return Status::ok();
    }
    out.account = dbText(rows.value()[0][0]);
    out.expiresAt = dbInt(rows.value()[0][1]);
    out.accountName = dbText(rows.value()[0][2]);
    out.token = *token;
    auto links = linksOf(c, out.account);
    if (!links.isOk()) return links.status();
    out.links = std::move(links).value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (error) return error;
  if (call.req.method != "GET" && call.req.method != "HEAD") {
    const std::string* sent = call.req.header("x-charta-csrf");
    if (!sent || !equalConstantTime(*sent, portalCsrf(out.token))) {
      return errorResponse(403, "csrf", "the request lacks the page's CSRF token: reload the page");
    }
  }
  return std::nullopt;
}

// The link to `patient`, or nullptr: the account may read only its own
// patients, and any other id answers as if it did not exist.
const Link* linkTo(const PortalCall& pc, const std::string& patient) {
  for (const Link& l : pc.links) {
    if (l.patient == patient) return &l;
  }
  return nullptr;
}

HttpResponse notFound() { return errorResponse(404, "not_found", "no such record"); }

// Names of the patients an account may read, from their charts.
Result<json::Array> patientsJson(Api& api, const std::vector<Link>& links) {
  json::Array out;
  Status s = ApiRoutes::store(api).read([&](Connection& c) -> Status {
    for (const Link& l : links) {
      auto doc = ApiRoutes::charts(api).load(c, l.patient);
      if (!doc.isOk()) return doc.status();
      out.push_back(json::Object{{"id", l.patient}, {"name", patientName(*doc.value())}, {"relation", l.relation}});
    }
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return out;
}

HttpResponse sessionBody(Api& api, const PortalCall& pc) {
  auto patients = patientsJson(api, pc.links);
  if (!patients.isOk()) return statusResponse(api, patients.status());
  return jsonResponse(200, json::Object{{"account", json::Object{{"id", pc.account}, {"name", pc.accountName}}},
                                        {"patients", std::move(patients).value()},
                                        {"csrf", portalCsrf(pc.token)},
                                        {"expires_at", pc.expiresAt}});
}

// Issues an invitation to the portal for `patient` (inside the write).
Result<std::string> issueInvitation(WriteTx& tx, const std::string& patient, const std::string& clinic,
                                    const std::string& relation, const std::string& name, const std::string& by) {
  const std::string code = randomCode(4);
  Status s = tx.conn().exec(
      "INSERT INTO portal_invitations (code_hash, patient_id, clinic_id, relation, name, created_by, created_at, "
      "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      P{Blob{digest(code)}, patient, clinic, relation, name, by, tx.now(), tx.now() + kInvitationTtlMs});
  if (!s.isOk()) return s;
  tx.audit({"", "", "", "portal.invite", clinic, patient,
            json::serialize(json::Object{{"relation", relation}, {"name", name}})});
  return code;
}

// Reads {"relation", "name"} (and "patient" when `withPatient`).
std::optional<HttpResponse> readInvitation(const HttpRequest& req, bool withPatient, std::string& patient,
                                           std::string& relation, std::string& name) {
  if (auto bad = readObject(req, [&](json::ObjectReader& r) {
        if (withPatient) patient = r.requiredString("patient", crdt::kMaxIdBytes);
        relation = r.requiredString("relation", 16);
        name = r.requiredString("name", 200);
      })) {
    return bad;
  }
  if (!validRelation(relation)) return errorResponse(400, "invalid", "relation: self, parent or guardian");
  if (name.empty()) return errorResponse(400, "invalid", "name: the person invited, as the clinic knows them");
  return std::nullopt;
}

HttpResponse invitationResponse(const std::string& code, const std::string& patient, const std::string& relation,
                                std::int64_t expires) {
  return jsonResponse(
      201, json::Object{{"code", code}, {"patient", patient}, {"relation", relation}, {"expires_at", expires}});
}

// A plain-language line of the access log for one audit row; nullopt for
// rows a patient does not need (the portal's own sign-ins and log reads).
struct AccessLine {
  std::string action;
  bool breakGlass = false;
};
std::optional<AccessLine> accessLine(const std::string& action) {
  static const std::map<std::string, AccessLine> kLines = {
      {"op.receive", {"changed", false}},
      {"chart.sync_read", {"copied to a tablet", false}},
      {"tablet.chart.read", {"viewed", false}},
      {"chart.lookup", {"looked up", false}},
      {"chart.break_glass", {"emergency access", true}},
      {"tablet.chart.break_glass", {"emergency access", true}},
      {"chart.export", {"exported", false}},
      {"fhir.import", {"imported", false}},
      {"conflict.resolve", {"resolved a conflict", false}},
      {"patient.move", {"moved to another clinic", false}},
      {"admin.conflicts.read", {"viewed its conflicts", false}},
      {"admin.audit.read", {"viewed its audit trail", false}},
      {"portal.invite", {"invited someone to this record", false}},
      {"portal.invitation_accepted", {"accepted an invitation", false}},
      {"portal.view", {"viewed", false}},
      {"portal.export", {"downloaded", false}},
      {"note.unshare", {"withheld a note", false}},
      {"note.share", {"shared a note", false}},
      {"attachment.upload", {"added a photo or document", false}},
      {"attachment.download", {"copied a photo or document to a tablet", false}},
      {"tablet.attachment.read", {"viewed a photo or document", false}},
      {"attachment.purge", {"removed its photos and documents", false}},
  };
  auto it = kLines.find(action);
  if (it == kLines.end()) return std::nullopt;
  return it->second;
}

}  // namespace

HttpResponse ApiRoutes::portalPage(Api&, Api::Call&) {
  return pageFile("text/html; charset=utf-8", charta_portal_html_begin, charta_portal_html_end);
}

HttpResponse ApiRoutes::portalAsset(Api&, Api::Call& call) {
  const std::string& name = call.pathParams[0];
  if (auto shared = sharedPageFile(name)) return *shared;
  if (name == "portal.js")
    return pageFile("text/javascript; charset=utf-8", charta_portal_js_begin, charta_portal_js_end);
  if (name == "portal.css") return pageFile("text/css; charset=utf-8", charta_portal_css_begin, charta_portal_css_end);
  if (name == "icon.svg") return pageFile("image/svg+xml", charta_portal_icon_begin, charta_portal_icon_end);
  return errorResponse(404, "not_found", "no such portal file: " + name);
}

namespace {

// Issues an invitation for `patient` when `mayInvite(its clinic)`; any other
// patient, existing or not, is "not found" (its id is not confirmed).
HttpResponse invite(Api& api, const Api::Call& call, const std::string& patient, const std::string& relation,
                    const std::string& name, const std::function<bool(const std::string&)>& mayInvite) {
  std::string code;
  Status s = ApiRoutes::store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto rows = tx.conn().query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty() || !mayInvite(dbText(rows.value()[0][0]))) {
      return Status::notFound("no patient " + patient + " that you may invite to");
    }
    auto c = issueInvitation(tx, patient, dbText(rows.value()[0][0]), relation, name, call.user->id);
    if (!c.isOk()) return c.status();
    code = c.value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return invitationResponse(code, patient, relation, nowMs() + kInvitationTtlMs);
}

}  // namespace

HttpResponse ApiRoutes::adminInvite(Api& api, Api::Call& call) {
  std::string unused, relation, name;
  if (auto bad = readInvitation(call.req, false, unused, relation, name)) return *bad;
  return invite(api, call, call.pathParams[0], relation, name,
                [&](const std::string& clinic) { return mayActOnClinic(*call.user, clinic); });
}

HttpResponse ApiRoutes::syncInvite(Api& api, Api::Call& call) {
  std::string patient, relation, name;
  if (auto bad = readInvitation(call.req, true, patient, relation, name)) return *bad;
  // A tablet invites to its own clinic's charts only.
  return invite(api, call, patient, relation, name,
                [&](const std::string& clinic) { return clinic == call.device->clinic; });
}

HttpResponse ApiRoutes::adminNoteSharing(Api& api, Api::Call& call) {
  const std::string& patient = call.pathParams[0];
  const std::string& note = call.pathParams[1];
  std::optional<bool> sharedField;
  std::string reason;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        sharedField = r.optionalBool("shared");
        reason = r.requiredString("reason", 2000);
      })) {
    return *bad;
  }
  if (!sharedField) return errorResponse(400, "invalid", "body.shared: true or false is required");
  const bool shared = *sharedField;
  if (reason.empty()) return errorResponse(400, "invalid", "reason: why the note is (not) shared, for the audit trail");
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    auto rows = tx.conn().query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty() || !mayActOnClinic(*call.user, dbText(rows.value()[0][0]))) {
      return Status::notFound("no patient " + patient);
    }
    const std::string clinic = dbText(rows.value()[0][0]);
    auto doc = charts(api).load(tx.conn(), patient);
    if (!doc.isOk()) return doc.status();
    bool found = false;
    for (const auto& [id, n] : doc.value()->notes()) found = found || (crdt::toString(id) == note && n.isSigned());
    if (!found) return Status::notFound("no signed note " + note + " in this chart");
    Status e = tx.conn().exec(
        "INSERT INTO note_sharing (patient_id, note_id, shared, reason, changed_by, changed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, note_id) DO UPDATE SET shared = excluded.shared, "
        "reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        P{patient, note, std::int64_t{shared ? 1 : 0}, reason, call.user->id, tx.now()});
    if (!e.isOk()) return e;
    tx.audit({"", "", "", shared ? "note.share" : "note.unshare", clinic, patient,
              json::serialize(json::Object{{"note", note}, {"reason", reason}})});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"patient", patient}, {"note", note}, {"shared", shared}});
}

HttpResponse ApiRoutes::portalAccept(Api& api, Api::Call& call) {
  std::string code, username, passphrase;
  bool secondFactor = false;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        code = r.requiredString("code", 64);
        username = r.requiredString("username", 64);
        passphrase = r.requiredString("passphrase", 1024);
        secondFactor = r.optionalBool("second_factor").value_or(false);
      })) {
    return *bad;
  }
  username = lowerAscii(username);
  if (!validUsername(username)) {
    return errorResponse(400, "invalid", "user name: 3 to 64 letters, digits and . _ - @");
  }
  if (passphrase.size() < kMinPassphrase) {
    return errorResponse(400, "invalid", "passphrase: at least 10 characters (a few words are easy to remember)");
  }
  const std::int64_t now = nowMs();
  const std::string addressKey = "addr:" + call.req.remoteAddress;
  if (std::int64_t wait = addressThrottle(api).waitMs(addressKey, now); wait > 0) return throttled(wait);
  // Hashed outside the write: Argon2id takes a while.
  auto hashed = hashPassword(passphrase);
  if (!hashed.isOk()) return statusResponse(api, hashed.status());
  std::string totpSecret;
  bool badCode = false, taken = false;
  std::vector<Link> links;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(actorOf(username), "", call.req.remoteAddress);
    auto inv = tx.conn().query(
        "SELECT patient_id, clinic_id, relation, name, expires_at, used_at FROM portal_invitations WHERE code_hash = "
        "$1",
        P{Blob{digest(canonicalCode(code))}});
    if (!inv.isOk()) return inv.status();
    if (inv.value().empty() || dbInt(inv.value()[0][4]) < tx.now() || !dbIsNull(inv.value()[0][5])) {
      badCode = true;
      return Status::ok();
    }
    const DbRow& row = inv.value()[0];
    auto account = tx.conn().query("SELECT password_hash, revoked_at FROM portal_accounts WHERE id = $1", P{username});
    if (!account.isOk()) return account.status();
    if (!account.value().empty()) {
      // An account adds a patient (a parent's second child) with its own passphrase.
      if (!dbIsNull(account.value()[0][1]) || !verifyPassword(dbText(account.value()[0][0]), passphrase)) {
        taken = true;
        return Status::ok();
      }
    } else {
      if (secondFactor) totpSecret = randomToken(20).substr(0, 20);
      Status e = tx.conn().exec(
          "INSERT INTO portal_accounts (id, display_name, password_hash, totp_secret, created_at) "
          "VALUES ($1, $2, $3, $4, $5)",
          P{username, dbText(row[3]), hashed.value(), totpSecret.empty() ? DbValue() : DbValue(Blob{totpSecret}),
            tx.now()});
      if (!e.isOk()) return e;
    }
    Status e = tx.conn().exec(
        "INSERT INTO portal_links (account_id, patient_id, relation, invited_by, created_at) VALUES ($1, $2, $3, $4, "
        "$5) ON CONFLICT (account_id, patient_id) DO NOTHING",
        P{username, dbText(row[0]), dbText(row[2]), std::string("invitation"), tx.now()});
    if (!e.isOk()) return e;
    e = tx.conn().exec("UPDATE portal_invitations SET used_at = $2, account_id = $3 WHERE code_hash = $1",
                       P{Blob{digest(canonicalCode(code))}, tx.now(), username});
    if (!e.isOk()) return e;
    tx.audit({"", "", "", "portal.invitation_accepted", dbText(row[1]), dbText(row[0]),
              json::serialize(json::Object{{"relation", dbText(row[2])}, {"second_factor", !totpSecret.empty()}})});
    auto l = linksOf(tx.conn(), username);
    if (!l.isOk()) return l.status();
    links = std::move(l).value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  if (badCode) {
    addressThrottle(api).failure(addressKey, now);
    return errorResponse(403, "bad_code",
                         "This invitation is not valid: it may have expired or been used already. Ask your clinic "
                         "for a new one.");
  }
  if (taken) return errorResponse(409, "exists", "this user name is taken: choose another one");
  auto patients = patientsJson(api, links);
  if (!patients.isOk()) return statusResponse(api, patients.status());
  json::Object out{{"account", username}, {"patients", std::move(patients).value()}};
  if (!totpSecret.empty()) {
    const std::string secret = base32Encode(totpSecret);
    out.emplace_back("totp_secret", secret);
    out.emplace_back("totp_uri", "otpauth://totp/Charta:" + username + "?secret=" + secret +
                                     "&issuer=Charta&algorithm=SHA256&digits=6&period=30");
  }
  return jsonResponse(201, std::move(out));
}

HttpResponse ApiRoutes::portalSignIn(Api& api, Api::Call& call) {
  std::string username, passphrase, code;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        username = r.requiredString("username", 64);
        passphrase = r.requiredString("passphrase", 1024);
        if (auto c = r.optionalString("code", 16)) code = *c;
      })) {
    return *bad;
  }
  username = lowerAscii(username);
  const std::int64_t now = nowMs();
  const std::string accountKey = "portal:" + username, addressKey = "addr:" + call.req.remoteAddress;
  std::int64_t wait =
      std::max(accountThrottle(api).waitMs(accountKey, now), addressThrottle(api).waitMs(addressKey, now));
  if (wait > 0) return throttled(wait);
  std::string hash, secret, name;
  bool known = false, revoked = false;
  Status s = store(api).read([&](Connection& c) -> Status {
    auto rows = c.query(
        "SELECT password_hash, totp_secret, display_name, revoked_at FROM portal_accounts WHERE id = $1", P{username});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty()) return Status::ok();
    known = true;
    hash = dbText(rows.value()[0][0]);
    secret = dbIsNull(rows.value()[0][1]) ? std::string() : dbBytes(rows.value()[0][1]);
    name = dbText(rows.value()[0][2]);
    revoked = !dbIsNull(rows.value()[0][3]);
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  static const std::string kDummy = [] {
    auto h = hashPassword("timing-equaliser");
    return h.isOk() ? h.value() : std::string();
  }();
  const bool good = verifyPassword(known ? hash : kDummy, passphrase) && known && !revoked;
  std::string refusal;
  if (!good) {
    refusal = "wrong user name or passphrase";
  } else if (!secret.empty() && code.empty()) {
    // The passphrase was right; the page asks for the code (not a failure).
    return errorResponse(401, "second_factor_required", "enter the 6-digit code from your authenticator app");
  } else if (!secret.empty() && !verifyTotp(secret, code, now / 1000)) {
    refusal = "the code is wrong or has expired: enter the one your app shows now";
  }
  if (!refusal.empty()) {
    accountThrottle(api).failure(accountKey, now);
    addressThrottle(api).failure(addressKey, now);
    Status a = store(api).write([&](WriteTx& tx) {
      tx.setActor(actorOf(username), "", call.req.remoteAddress);
      tx.audit({"", "", "", "portal.sign_in_failed", "", "", json::serialize(json::Object{{"reason", refusal}})});
      return Status::ok();
    });
    if (!a.isOk()) return statusResponse(api, a);
    return errorResponse(401, good ? "bad_second_factor" : "bad_credentials", refusal);
  }
  accountThrottle(api).success(accountKey);
  addressThrottle(api).success(addressKey);
  PortalCall pc{username, name, randomToken(32), now + kPortalSessionMs, {}};
  s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(actorOf(username), "", call.req.remoteAddress);
    Status e = tx.conn().exec(
        "INSERT INTO portal_sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        P{Blob{digest(pc.token)}, username, tx.now(), pc.expiresAt});
    if (e.isOk()) {
      e = tx.conn().exec("DELETE FROM portal_sessions WHERE account_id = $1 AND expires_at < $2",
                         P{username, tx.now() - 86400000});
    }
    if (!e.isOk()) return e;
    tx.audit({"", "", "", "portal.sign_in", "", "", "{}"});
    auto l = linksOf(tx.conn(), username);
    if (!l.isOk()) return l.status();
    pc.links = std::move(l).value();
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  HttpResponse r = sessionBody(api, pc);
  r.headers.emplace_back("Set-Cookie", sessionCookie(call.req, kPortalCookie, pc.token, kPortalSessionMs / 1000));
  return r;
}

HttpResponse ApiRoutes::portalSession(Api& api, Api::Call& call) {
  PortalCall pc;
  if (auto denied = portalAuth(api, call, pc)) return *denied;
  Status s = store(api).write([&](WriteTx& tx) {
    tx.setActor(actorOf(pc.account), "", call.req.remoteAddress);
    tx.audit({"", "", "", "portal.session", "", "", "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return sessionBody(api, pc);
}

HttpResponse ApiRoutes::portalLogout(Api& api, Api::Call& call) {
  PortalCall pc;
  if (auto denied = portalAuth(api, call, pc)) return *denied;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(actorOf(pc.account), "", call.req.remoteAddress);
    tx.audit({"", "", "", "portal.sign_out", "", "", "{}"});
    return tx.conn().exec("DELETE FROM portal_sessions WHERE token_hash = $1", P{Blob{digest(pc.token)}});
  });
  if (!s.isOk()) return statusResponse(api, s);
  HttpResponse r = jsonResponse(200, json::Object{{"ok", true}});
  r.headers.emplace_back("Set-Cookie", sessionCookie(call.req, kPortalCookie, "", 0));
  return r;
}

namespace {

// The chart of a linked patient, read in a write that audits it as `action`;
// its withheld notes too.
struct Read {
  std::optional<crdt::ChartDocument> doc;
  std::set<std::string> withheld;
};
Result<Read> readForPortal(Api& api, const Api::Call& call, const PortalCall& pc, const std::string& patient,
                           const std::string& action) {
  Read out;
  Status s = ApiRoutes::store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(actorOf(pc.account), "", call.req.remoteAddress);
    auto rows = tx.conn().query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty()) return Status::notFound("no such record");
    tx.touch(patient);
    auto doc = ApiRoutes::charts(api).load(tx.conn(), patient);
    if (!doc.isOk()) return doc.status();
    out.doc.emplace(*doc.value());
    auto hidden = tx.conn().query("SELECT note_id FROM note_sharing WHERE patient_id = $1 AND shared = 0", P{patient});
    if (!hidden.isOk()) return hidden.status();
    for (const DbRow& r : hidden.value()) out.withheld.insert(dbText(r[0]));
    tx.audit({"", "", "", action, dbText(rows.value()[0][0]), patient, "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return out;
}

json::Array dueJson(const crdt::ChartDocument& doc, std::int64_t now) {
  const crdt::Register& birth = doc.demographic(crdt::field::kBirthDate);
  const std::string birthDate = birth.empty() ? std::string() : textOf(birth.current().value);
  std::vector<rules::GivenRecord> given;
  for (const auto& [id, e] : doc.entries(crdt::Collection::kImmunisations)) {
    if (e.currentStatus() != static_cast<std::int64_t>(crdt::EntryStatus::kCompleted)) continue;
    std::string code = textOf(e.fieldValue(crdt::field::kCode));
    if (auto bar = code.find('|'); bar != std::string::npos) code = code.substr(bar + 1);
    given.push_back({rules::ScheduleKind::kImmunisation, code, textOf(e.fieldValue(crdt::field::kOccurrenceDate))});
  }
  json::Array out;
  for (const rules::DueItem& item : rules::dueItems(birthDate, isoDate(now), given)) {
    if (item.item.kind != rules::ScheduleKind::kImmunisation) continue;
    if (item.state != rules::DueState::kDue && item.state != rules::DueState::kOverdue &&
        item.state != rules::DueState::kUpcoming) {
      continue;
    }
    out.push_back(json::Object{{"vaccine", item.item.name},
                               {"dose", item.item.dose},
                               {"due", item.dueDate},
                               {"overdue", item.state == rules::DueState::kOverdue},
                               {"upcoming", item.state == rules::DueState::kUpcoming}});
  }
  return out;
}

}  // namespace

HttpResponse ApiRoutes::portalRecord(Api& api, Api::Call& call) {
  PortalCall pc;
  if (auto denied = portalAuth(api, call, pc)) return *denied;
  const std::string& patient = call.pathParams[0];
  const Link* link = linkTo(pc, patient);
  if (!link || !call.req.query.empty()) return notFound();
  auto read = readForPortal(api, call, pc, patient, "portal.view");
  if (!read.isOk())
    return read.status().code() == Status::Code::kNotFound ? notFound() : statusResponse(api, read.status());
  const crdt::ChartDocument& doc = *read.value().doc;
  const std::int64_t now = nowMs();
  json::Array notes;
  std::int64_t withheld = 0;
  for (const auto& [id, n] : doc.notes()) {
    if (!n.isSigned()) continue;
    if (read.value().withheld.count(crdt::toString(id))) {
      ++withheld;
      continue;
    }
    notes.push_back(json::Object{{"id", crdt::toString(id)}, {"document", crdt::toString(id)}});
  }
  return jsonResponse(
      200,
      json::Object{{"patient", json::Object{{"id", patient}, {"name", patientName(doc)}, {"relation", link->relation}}},
                   {"bundle", chartToFhirBundle(doc, FhirBundleType::kSearchset, now, read.value().withheld)},
                   {"immunisations_due", dueJson(doc, now)},
                   {"notes", std::move(notes)},
                   {"not_shared_notes", withheld}});
}

HttpResponse ApiRoutes::portalFhir(Api& api, Api::Call& call) {
  PortalCall pc;
  if (auto denied = portalAuth(api, call, pc)) return *denied;
  const std::string& patient = call.pathParams[0];
  if (!linkTo(pc, patient) || !call.req.query.empty()) return notFound();
  auto read = readForPortal(api, call, pc, patient, "portal.export");
  if (!read.isOk())
    return read.status().code() == Status::Code::kNotFound ? notFound() : statusResponse(api, read.status());
  HttpResponse r = jsonResponse(200, chartToFhirBundle(*read.value().doc, FhirBundleType::kSearchset, nowMs(),
                                                       read.value().withheld, attachmentContent(api)));
  r.contentType = "application/fhir+json; charset=utf-8";
  std::string file;
  for (char c : patient) file += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '-';
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"charta-" + file + ".json\"");
  return r;
}

HttpResponse ApiRoutes::portalAccess(Api& api, Api::Call& call) {
  PortalCall pc;
  if (auto denied = portalAuth(api, call, pc)) return *denied;
  const std::string& patient = call.pathParams[0];
  if (!linkTo(pc, patient) || !call.req.query.empty()) return notFound();
  json::Array events;
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    tx.setActor(actorOf(pc.account), "", call.req.remoteAddress);
    Connection& c = tx.conn();
    // Every row but the ops received, newest first; the ops received (one
    // row each) as one line per person, device and hour, so that a busy
    // chart's edits never push a look at it out of the list.
    auto looks = c.query(
        "SELECT at, user_id, device_id, action, clinic_id, detail, 1 FROM audit WHERE patient_id = $1 "
        "AND action <> 'op.receive' ORDER BY seq DESC LIMIT $2",
        P{patient, kAccessLogRows});
    if (!looks.isOk()) return looks.status();
    auto edits = c.query(
        "SELECT MAX(at), user_id, device_id, 'op.receive', clinic_id, '{}', COUNT(*) FROM audit "
        "WHERE patient_id = $1 AND action = 'op.receive' GROUP BY user_id, device_id, clinic_id, at / 3600000 "
        "ORDER BY 1 DESC LIMIT $2",
        P{patient, kAccessLogRows});
    if (!edits.isOk()) return edits.status();
    std::vector<DbRow> rows = std::move(looks).value();
    for (DbRow& r : edits.value()) rows.push_back(std::move(r));
    std::stable_sort(rows.begin(), rows.end(),
                     [](const DbRow& a, const DbRow& b) { return dbInt(a[0]) > dbInt(b[0]); });
    std::map<std::string, std::pair<std::string, std::string>> users;  // id -> name, role
    std::map<std::string, std::string> devices, accounts, clinics;
    for (const DbRow& r : rows) {
      auto line = accessLine(dbText(r[3]));
      if (!line) continue;
      const std::string user = dbText(r[1]), device = dbText(r[2]);
      std::string who, role;
      if (user.rfind("patient:", 0) == 0) {
        const std::string id = user.substr(8);
        if (!accounts.count(id)) {
          auto a = c.query("SELECT display_name FROM portal_accounts WHERE id = $1", P{id});
          if (!a.isOk()) return a.status();
          accounts[id] = a.value().empty() ? id : dbText(a.value()[0][0]);
        }
        who = id == pc.account ? "you (" + accounts[id] + ")" : accounts[id];
        role = "patient";
      } else if (!user.empty()) {
        if (!users.count(user)) {
          auto u = c.query("SELECT display_name, role FROM users WHERE id = $1", P{user});
          if (!u.isOk()) return u.status();
          users[user] = u.value().empty() ? std::pair{user, std::string("staff")}
                                          : std::pair{dbText(u.value()[0][0]).empty() ? user : dbText(u.value()[0][0]),
                                                      dbText(u.value()[0][1])};
        }
        who = users[user].first;
        role = users[user].second;
      } else {
        who = "Charta server";
        role = "server";
      }
      json::Value deviceName;
      if (!device.empty()) {
        if (!devices.count(device)) {
          auto d = c.query("SELECT name FROM devices WHERE id = $1", P{device});
          if (!d.isOk()) return d.status();
          devices[device] = d.value().empty() ? device : dbText(d.value()[0][0]);
        }
        deviceName = devices[device];
      }
      // The reason an emergency access gave is the patient's to see; the
      // reasons staff give elsewhere (a withheld note's) stay in the audit chain.
      json::Value reason;
      if (auto detail = json::parse(dbText(r[5])); line->breakGlass && detail.isOk()) {
        if (const json::Value* why = detail.value().find("reason"); why && why->asString()) reason = *why->asString();
      }
      const std::string clinic = dbText(r[4]);
      if (!clinic.empty() && !clinics.count(clinic)) {
        auto n = c.query("SELECT name FROM clinics WHERE id = $1", P{clinic});
        if (!n.isOk()) return n.status();
        clinics[clinic] = n.value().empty() ? clinic : dbText(n.value()[0][0]);
      }
      events.push_back(json::Object{{"at", dbInt(r[0])},
                                    {"who", who},
                                    {"role", role},
                                    {"device", deviceName},
                                    {"clinic", clinic.empty() ? json::Value() : json::Value(clinics[clinic])},
                                    {"action", line->action},
                                    {"times", dbInt(r[6])},
                                    {"break_glass", line->breakGlass},
                                    {"reason", reason}});
    }
    auto clinic = c.query("SELECT clinic_id FROM patients WHERE id = $1", P{patient});
    if (!clinic.isOk()) return clinic.status();
    tx.audit({"", "", "", "portal.access_log", clinic.value().empty() ? std::string() : dbText(clinic.value()[0][0]),
              patient, "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return jsonResponse(200, json::Object{{"events", std::move(events)}});
}

}  // namespace charta::server
