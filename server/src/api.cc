#include <chrono>
#include <exception>

#include "api_internal.h"
#include "blob_store.h"
#include "crypto.h"
#include "web_page.h"

namespace charta::server {
namespace {

struct Route {
  const char* method;
  const char* pattern;  // "{}" matches one path segment
  const char* name;     // the metrics label
  Need need;
  ApiRoutes::Handler handler;
};

const Route kRoutes[] = {
    {"GET", "/healthz", "healthz", Need::kNothing, &ApiRoutes::healthz},
    {"GET", "/metrics", "metrics", Need::kNothing, &ApiRoutes::metrics},
    {"POST", "/v1/enrol", "enrol", Need::kNothing, &ApiRoutes::enrol},
    {"POST", "/v1/login", "login", Need::kNothing, &ApiRoutes::login},
    {"POST", "/v1/logout", "logout", Need::kSession, &ApiRoutes::logout},
    {"POST", "/v1/session/refresh", "refresh", Need::kSession, &ApiRoutes::refresh},
    {"POST", "/v1/sync/push", "push", Need::kSync, &ApiRoutes::push},
    {"GET", "/v1/sync/pull", "pull", Need::kSync, &ApiRoutes::pull},
    {"POST", "/v1/sync/report", "report", Need::kSync, &ApiRoutes::report},
    {"POST", "/v1/sync/audit", "device_audit", Need::kSync, &ApiRoutes::deviceAudit},
    {"POST", "/v1/sync/break-glass", "break_glass", Need::kSync, &ApiRoutes::breakGlass},
    {"GET", "/v1/admin/clinics", "admin_clinics", Need::kSysadmin, &ApiRoutes::listClinics},
    {"POST", "/v1/admin/clinics", "admin_clinic_create", Need::kSysadmin, &ApiRoutes::createClinic},
    {"GET", "/v1/admin/users", "admin_users", Need::kAdmin, &ApiRoutes::listUsers},
    {"POST", "/v1/admin/users", "admin_user_create", Need::kAdmin, &ApiRoutes::createUser},
    {"POST", "/v1/admin/users/{}/revoke", "admin_user_revoke", Need::kAdmin, &ApiRoutes::revokeUser},
    {"POST", "/v1/admin/enrolment-codes", "admin_code_issue", Need::kAdmin, &ApiRoutes::issueCode},
    {"GET", "/v1/admin/devices", "admin_devices", Need::kAdmin, &ApiRoutes::listDevices},
    {"POST", "/v1/admin/devices/{}/revoke", "admin_device_revoke", Need::kAdmin, &ApiRoutes::revokeDevice},
    {"GET", "/v1/admin/conflicts", "admin_conflicts", Need::kSysadmin, &ApiRoutes::listConflicts},
    {"POST", "/v1/admin/conflicts/resolve", "admin_conflict_resolve", Need::kSysadmin, &ApiRoutes::resolveConflict},
    {"GET", "/v1/admin/audit", "admin_audit", Need::kSysadmin, &ApiRoutes::queryAudit},
    {"POST", "/v1/admin/audit/verify", "admin_audit_verify", Need::kSysadmin, &ApiRoutes::verifyAudit},
    {"POST", "/v1/admin/patients/move", "admin_patient_move", Need::kSysadmin, &ApiRoutes::movePatient},
    {"POST", "/v1/admin/fhir/import", "admin_fhir_import", Need::kAdmin, &ApiRoutes::importFhir},
    {"GET", "/fhir/Patient/{}/$everything", "fhir_everything", Need::kAdmin, &ApiRoutes::exportFhir},
    {"GET", "/v1/admin/activity", "admin_activity", Need::kSysadmin, &ApiRoutes::activity},
    {"GET", "/admin", "console_page", Need::kNothing, &ApiRoutes::consolePage},
    {"GET", "/admin/{}", "console_asset", Need::kNothing, &ApiRoutes::consoleAsset},
    {"POST", "/v1/console/session", "console_sign_in", Need::kNothing, &ApiRoutes::consoleSignIn},
    {"GET", "/v1/console/session", "console_session", Need::kSession, &ApiRoutes::consoleSession},
    {"POST", "/v1/console/logout", "console_logout", Need::kSession, &ApiRoutes::consoleLogout},
    {"POST", "/v1/admin/patients/{}/invitations", "admin_portal_invite", Need::kAdmin, &ApiRoutes::adminInvite},
    {"POST", "/v1/admin/patients/{}/notes/{}/sharing", "admin_note_sharing", Need::kAdmin,
     &ApiRoutes::adminNoteSharing},
    {"POST", "/v1/sync/invitations", "portal_invite", Need::kSync, &ApiRoutes::syncInvite},
    // Attachments: the patient's scope is checked by the handlers.
    {"PUT", "/v1/sync/patients/{}/attachments/{}", "attachment_declare", Need::kSync, &ApiRoutes::attachmentDeclare},
    {"GET", "/v1/sync/patients/{}/attachments/{}", "attachment_status", Need::kSync, &ApiRoutes::attachmentStatus},
    {"PUT", "/v1/sync/patients/{}/attachments/{}/chunks/{}", "attachment_chunk_put", Need::kSync,
     &ApiRoutes::attachmentChunkPut},
    {"GET", "/v1/sync/patients/{}/attachments/{}/chunks/{}", "attachment_chunk_get", Need::kSync,
     &ApiRoutes::attachmentChunkGet},
    {"DELETE", "/v1/admin/patients/{}/attachments", "admin_attachment_purge", Need::kSysadmin,
     &ApiRoutes::attachmentPurge},
    // The patient portal: its own cookie and accounts, checked by its handlers.
    {"GET", "/me", "portal_page", Need::kNothing, &ApiRoutes::portalPage},
    {"GET", "/me/{}", "portal_asset", Need::kNothing, &ApiRoutes::portalAsset},
    {"POST", "/v1/me/accept", "portal_accept", Need::kNothing, &ApiRoutes::portalAccept},
    {"POST", "/v1/me/session", "portal_sign_in", Need::kNothing, &ApiRoutes::portalSignIn},
    {"GET", "/v1/me/session", "portal_session", Need::kNothing, &ApiRoutes::portalSession},
    {"POST", "/v1/me/logout", "portal_logout", Need::kNothing, &ApiRoutes::portalLogout},
    {"GET", "/v1/me/patients/{}/record", "portal_record", Need::kNothing, &ApiRoutes::portalRecord},
    {"GET", "/v1/me/patients/{}/fhir", "portal_fhir", Need::kNothing, &ApiRoutes::portalFhir},
    {"GET", "/v1/me/patients/{}/access", "portal_access", Need::kNothing, &ApiRoutes::portalAccess},
};

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool matches(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  auto p = segments(pattern);
  auto s = segments(path);
  if (p.size() != s.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == "{}") {
      found.emplace_back(s[i]);
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

HttpResponse unauthorised(std::string_view message) {
  HttpResponse r = errorResponse(401, "unauthenticated", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

// Reads "x-charta-device: ID:SECRET" and "authorization: Bearer TOKEN" and
// fills the call; a response when the credentials are wrong.
std::optional<HttpResponse> authenticate(Api& api, Api::Call& call) {
  const HttpRequest& req = call.req;
  std::optional<HttpResponse> error;
  Status s = ApiRoutes::store(api).read([&](Connection& c) -> Status {
    std::int64_t now = nowMs();
    if (const std::string* cred = req.header("x-charta-device")) {
      auto colon = cred->find(':');
      if (colon == std::string::npos) {
        error = unauthorised("the device credential is malformed: expected ID:SECRET");
        return Status::ok();
      }
      auto device = deviceForCredential(c, cred->substr(0, colon), cred->substr(colon + 1));
      if (!device.isOk()) return device.status();
      if (!device.value()) {
        error = unauthorised("unknown device credential");
        return Status::ok();
      }
      if (device.value()->revokedAt) {
        HttpResponse r =
            errorResponse(410, "device_revoked", "this device was revoked: wipe its local data and enrol again");
        r.body =
            "{\"error\":{\"code\":\"device_revoked\",\"message\":\"this device was revoked: wipe its local "
            "data and enrol again\"},\"wipe\":true}";
        error = r;
        return Status::ok();
      }
      call.device = device.value();
    }
    if (const std::string* auth = req.header("authorization")) {
      constexpr std::string_view kBearer = "Bearer ";
      if (auth->size() <= kBearer.size() || auth->compare(0, kBearer.size(), kBearer) != 0) {
        error = unauthorised("the Authorization header must be \"Bearer <session token>\"");
        return Status::ok();
      }
      call.sessionToken = auth->substr(kBearer.size());
      auto session = findSession(c, call.sessionToken, now);
      if (!session.isOk()) return session.status();
      if (!session.value()) {
        error = unauthorised("the session is unknown or has expired: sign in again");
        return Status::ok();
      }
      if (!session.value()->device.empty() && (!call.device || call.device->id != session.value()->device)) {
        error = unauthorised("this session belongs to another device");
        return Status::ok();
      }
      auto user = findUser(c, session.value()->user);
      if (!user.isOk()) return user.status();
      if (!user.value() || user.value()->revokedAt) {
        error = unauthorised("the account was revoked");
        return Status::ok();
      }
      call.user = user.value();
      call.sessionExpiresAt = session.value()->expiresAt;
    } else if (const std::string* cookies = req.header("cookie")) {
      // The console's session cookie: a sysadmin's session without a device.
      auto token = cookieValue(*cookies, kConsoleCookie);
      if (!token) return Status::ok();
      auto session = findSession(c, *token, now);
      if (!session.isOk()) return session.status();
      if (!session.value() || !session.value()->device.empty()) {
        error = unauthorised("the console session is unknown or has expired: sign in again");
        return Status::ok();
      }
      auto user = findUser(c, session.value()->user);
      if (!user.isOk()) return user.status();
      if (!user.value() || user.value()->revokedAt || user.value()->role != Role::kSysadmin) {
        error = unauthorised("the account was revoked");
        return Status::ok();
      }
      call.sessionToken = *token;
      call.sessionExpiresAt = session.value()->expiresAt;
      call.user = user.value();
      call.viaCookie = true;
    }
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  return error;
}

std::optional<HttpResponse> authorise(const Api::Call& call, Need need) {
  switch (need) {
    case Need::kNothing: return std::nullopt;
    case Need::kSession:
      if (!call.user) return unauthorised("sign in first: this call needs a session");
      return std::nullopt;
    case Need::kSync:
      if (!call.device) return unauthorised("this call needs an enrolled device's credential");
      if (!call.user) return unauthorised("sign in first: this call needs a session");
      if (call.user->role == Role::kSysadmin) {
        return errorResponse(403, "forbidden", "sysadmins do not sync charts");
      }
      if (call.user->clinic != call.device->clinic) {
        return errorResponse(403, "forbidden", "the user and the device belong to different clinics");
      }
      return std::nullopt;
    case Need::kAdmin:
      if (!call.user) return unauthorised("sign in first: this call needs a session");
      if (call.user->role == Role::kNurse) return errorResponse(403, "forbidden", "this needs an administrator");
      return std::nullopt;
    case Need::kSysadmin:
      if (!call.user) return unauthorised("sign in first: this call needs a session");
      if (call.user->role != Role::kSysadmin) return errorResponse(403, "forbidden", "this needs a sysadmin");
      return std::nullopt;
  }
  return errorResponse(500, "internal", "unknown authorisation requirement");
}

}  // namespace

Api::Api(const Config& config, Store& store, Logger& log)
    : m_config(config),
      m_store(store),
      m_log(log),
      m_blobs(makeBlobStore(config, store.dialect())),
      m_accountThrottle(config.loginMaxFailures),
      m_addressThrottle(config.loginMaxFailures * 4),
      m_startedAt(nowMs()) {
  m_store.setRollbackHook([this](const std::set<std::string>& patients) { m_charts.invalidate(patients); });
}

Api::~Api() = default;

HttpResponse Api::handle(const HttpRequest& req) {
  auto started = std::chrono::steady_clock::now();
  const Route* route = nullptr;
  bool pathKnown = false;
  Call call{req, {}, std::nullopt, std::nullopt, {}, 0, false};
  for (const Route& r : kRoutes) {
    std::vector<std::string> params;
    if (!matches(r.pattern, req.path, params)) continue;
    pathKnown = true;
    if (req.method == r.method) {
      route = &r;
      call.pathParams = std::move(params);
      break;
    }
  }
  HttpResponse resp;
  std::string routeName = route ? route->name : (pathKnown ? "method_not_allowed" : "not_found");
  if (!route) {
    resp = pathKnown ? errorResponse(405, "method_not_allowed", "this path does not take " + req.method)
                     : errorResponse(404, "not_found", "no such endpoint: " + req.path);
  } else {
    try {
      std::optional<HttpResponse> denied;
      if (route->need != Need::kNothing || req.header("x-charta-device") || req.header("authorization")) {
        denied = authenticate(*this, call);
      }
      // A cookie rides along with any request the browser sends, also one a
      // page of another site makes it send: every state-changing request
      // signed in by the cookie must carry the session's CSRF token, which
      // only the console's own script can have read.
      if (!denied && call.viaCookie && req.method != "GET" && req.method != "HEAD") {
        const std::string* sent = req.header("x-charta-csrf");
        if (!sent || !equalConstantTime(*sent, csrfTokenFor(call.sessionToken))) {
          denied = errorResponse(403, "csrf", "the request lacks the console's CSRF token: reload the page");
        }
      }
      if (!denied) denied = authorise(call, route->need);
      resp = denied ? *denied : route->handler(*this, call);
    } catch (const std::exception& e) {
      m_metrics.error("internal");
      m_log.error("request.exception", {{"route", routeName}, {"what", e.what()}});
      resp = errorResponse(500, "internal", "the server failed to answer this request");
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A state-changing request went through: the storage takes writes again.
  if (route && resp.status < 300 && req.method != "GET" && req.method != "HEAD" &&
      m_storageFullSince.load(std::memory_order_relaxed) != 0 && m_storageFullSince.exchange(0) != 0) {
    m_log.warn("storage.writable", {{"message", "writes are stored again"}});
  }
  m_metrics.request(routeName, resp.status);
  if (resp.status >= 400 && resp.status < 500) m_metrics.error("client");
  if (route && (routeName == "push" || routeName == "pull") && resp.status < 400) {
    m_metrics.syncLatency(routeName, seconds);
  }
  if (route && route->need == Need::kSync) {
    std::int64_t now = nowMs();
    if (routeName == "push") m_metrics.activity(Metrics::Activity::kPush, 1, now);
    if (routeName == "pull") m_metrics.activity(Metrics::Activity::kPull, 1, now);
    if (resp.status >= 400) m_metrics.activity(Metrics::Activity::kError, 1, now);
  }
  if (m_log.minLevel() <= Logger::Level::kDebug || resp.status >= 400) {
    m_log.log(resp.status >= 500 ? Logger::Level::kError
                                 : (resp.status >= 400 ? Logger::Level::kInfo : Logger::Level::kDebug),
              "http.request",
              {{"method", req.method},
               {"path", req.path},
               {"status", resp.status},
               {"ms", seconds * 1000},
               {"address", req.remoteAddress},
               {"user", call.user ? call.user->id : std::string()},
               {"device", call.device ? call.device->id : std::string()}});
  }
  resp.headers.emplace_back("Cache-Control", "no-store");
  resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return resp;
}

HttpResponse jsonResponse(int status, const json::Value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

HttpResponse statusResponse(Api& api, const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return jsonResponse(200, json::Object{{"ok", true}});
    case Status::Code::kInvalidArgument: return errorResponse(400, "invalid", s.message());
    case Status::Code::kCorruption: return errorResponse(400, "malformed", s.message());
    case Status::Code::kUnsupportedVersion: return errorResponse(400, "unsupported_version", s.message());
    case Status::Code::kRejected: return errorResponse(422, "rejected", s.message());
    case Status::Code::kNotFound: return errorResponse(404, "not_found", s.message());
    case Status::Code::kAlreadyExists: return errorResponse(409, "exists", s.message());
    case Status::Code::kIoError:
      if (dbIsStorageFull(s)) {
        std::int64_t none = 0;
        ApiRoutes::storageFullSince(api).compare_exchange_strong(none, nowMs());
        ApiRoutes::metricsOf(api).error("storage_full");
        ApiRoutes::log(api).error("storage.full", {{"message", s.message()},
                                                   {"hint",
                                                    "the store's disk is full (or a file-size limit was "
                                                    "reached): writes are refused until there is room, "
                                                    "then resume by themselves"}});
        HttpResponse r = errorResponse(507, "insufficient_storage",
                                       "the server's storage is full: nothing of this request was stored; "
                                       "retry later");
        r.headers.emplace_back("Retry-After", "30");
        return r;
      }
      ApiRoutes::metricsOf(api).error("storage");
      ApiRoutes::log(api).error("storage.error", {{"message", s.message()}});
      return errorResponse(503, "unavailable", "storage is unavailable; retry later");
    case Status::Code::kClockSkew: break;
  }
  ApiRoutes::metricsOf(api).error("internal");
  ApiRoutes::log(api).error("internal.error", {{"message", s.toString()}});
  return errorResponse(500, "internal", "the server failed to answer this request");
}

std::optional<json::Value> parseBody(const HttpRequest& req, HttpResponse& error) {
  const std::string* type = req.header("content-type");
  if (type && type->rfind("application/json", 0) != 0) {
    error = errorResponse(415, "unsupported_media_type", "the body must be application/json");
    return std::nullopt;
  }
  auto parsed = json::parse(req.body);
  if (!parsed.isOk()) {
    error = errorResponse(400, "malformed", "the body is not valid JSON: " + parsed.status().message());
    return std::nullopt;
  }
  if (!parsed.value().isObject()) {
    error = errorResponse(400, "malformed", "the body must be a JSON object");
    return std::nullopt;
  }
  return std::move(parsed).value();
}

std::optional<HttpResponse> readObject(const HttpRequest& req, const std::function<void(json::ObjectReader&)>& read) {
  HttpResponse error;
  auto body = parseBody(req, error);
  if (!body) return error;
  json::ObjectReader reader(*body, "body");
  read(reader);
  if (Status s = reader.finish(); !s.isOk()) return errorResponse(400, "invalid", s.message());
  return std::nullopt;
}

void setActor(WriteTx& tx, const Api::Call& call) {
  tx.setActor(call.user ? call.user->id : std::string(), call.device ? call.device->id : std::string(),
              call.req.remoteAddress);
}

bool mayActOnClinic(const User& user, const std::string& clinic) {
  return user.role == Role::kSysadmin || (user.role == Role::kClinicAdmin && user.clinic == clinic);
}

HttpResponse ApiRoutes::healthz(Api& api, Api::Call&) {
  auto epoch = api.m_store.readEpoch();
  if (!epoch.isOk()) return errorResponse(503, "unavailable", "storage is unavailable");
  json::Object health{{"status", "ok"}, {"store", api.m_store.backendName()}, {"epoch", epoch.value()}};
  // Reads still work on a full storage; writes are refused (507) until there is room.
  if (std::int64_t since = api.m_storageFullSince.load(); since != 0) health.emplace_back("storage_full_since", since);
  return jsonResponse(200, health);
}

HttpResponse ApiRoutes::metrics(Api& api, Api::Call&) {
  std::map<std::string, std::pair<std::string, double>> gauges;
  Status s = api.m_store.read([&](Connection& c) -> Status {
    auto q = [&](const char* sql) -> Result<double> {
      auto rows = c.query(sql);
      if (!rows.isOk()) return rows.status();
      return static_cast<double>(dbInt(rows.value()[0][0]));
    };
    struct G {
      const char* name;
      const char* help;
      const char* sql;
    };
    const G gs[] = {
        {"charta_devices", "Enrolled devices that are not revoked.",
         "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL"},
        {"charta_conflicts_open", "Open conflicts waiting for a person.", "SELECT COUNT(*) FROM conflicts"},
        {"charta_op_sequence", "The last server sequence assigned.", "SELECT op_seq FROM head WHERE id = 1"},
        {"charta_patients", "Charts in the store.", "SELECT COUNT(*) FROM patients"},
    };
    gauges["charta_storage_full"] = {"1 while writes are refused because the storage is full, else 0.",
                                     api.m_storageFullSince.load() != 0 ? 1.0 : 0.0};
    for (const G& g : gs) {
      auto v = q(g.sql);
      if (!v.isOk()) return v.status();
      gauges[g.name] = {g.help, v.value()};
    }
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4; charset=utf-8";
  r.body = api.m_metrics.render(gauges);
  return r;
}

}  // namespace charta::server
