#pragma once

// Shared by api.cc (routing, authentication, errors), api_sync.cc (enrolment,
// login, push, pull, reports, device audit events, break-glass) and
// api_admin.cc (the admin API).

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "accounts.h"
#include "api.h"
#include "blob_store.h"
#include "fhir_export.h"
#include "json.h"

namespace charta::server {

struct Api::Call {
  const HttpRequest& req;
  std::vector<std::string> pathParams;  // the {id} parts of the route, in order
  std::optional<Device> device;         // a valid device credential was given
  std::optional<User> user;             // a valid session was given
  std::string sessionToken;
  std::int64_t sessionExpiresAt = 0;
  bool viaCookie = false;  // the session came in the console's cookie
};

// What a route needs before its handler runs.
enum class Need {
  kNothing,   // public (health, metrics, enrolment, login)
  kSync,      // device credential + session of a nurse or clinic admin of the device's clinic
  kSession,   // any valid session (logout, refresh)
  kAdmin,     // session of a sysadmin or a clinic admin (handlers check clinic scope)
  kSysadmin,  // session of a sysadmin
};

struct ApiRoutes {
  using Handler = HttpResponse (*)(Api&, Api::Call&);

  static HttpResponse healthz(Api& api, Api::Call& call);
  static HttpResponse metrics(Api& api, Api::Call& call);
  static HttpResponse enrol(Api& api, Api::Call& call);
  static HttpResponse login(Api& api, Api::Call& call);
  static HttpResponse logout(Api& api, Api::Call& call);
  static HttpResponse refresh(Api& api, Api::Call& call);
  static HttpResponse push(Api& api, Api::Call& call);
  static HttpResponse pull(Api& api, Api::Call& call);
  static HttpResponse report(Api& api, Api::Call& call);
  static HttpResponse deviceAudit(Api& api, Api::Call& call);
  static HttpResponse breakGlass(Api& api, Api::Call& call);

  static HttpResponse listClinics(Api& api, Api::Call& call);
  static HttpResponse createClinic(Api& api, Api::Call& call);
  static HttpResponse listUsers(Api& api, Api::Call& call);
  static HttpResponse createUser(Api& api, Api::Call& call);
  static HttpResponse revokeUser(Api& api, Api::Call& call);
  static HttpResponse issueCode(Api& api, Api::Call& call);
  static HttpResponse listDevices(Api& api, Api::Call& call);
  static HttpResponse revokeDevice(Api& api, Api::Call& call);
  static HttpResponse listConflicts(Api& api, Api::Call& call);
  static HttpResponse resolveConflict(Api& api, Api::Call& call);
  static HttpResponse queryAudit(Api& api, Api::Call& call);
  static HttpResponse verifyAudit(Api& api, Api::Call& call);
  static HttpResponse movePatient(Api& api, Api::Call& call);
  static HttpResponse importFhir(Api& api, Api::Call& call);
  static HttpResponse exportFhir(Api& api, Api::Call& call);

  // The sysadmin console (api_console.cc).
  static HttpResponse consolePage(Api& api, Api::Call& call);
  static HttpResponse consoleAsset(Api& api, Api::Call& call);
  static HttpResponse consoleSignIn(Api& api, Api::Call& call);
  static HttpResponse consoleSession(Api& api, Api::Call& call);
  static HttpResponse consoleLogout(Api& api, Api::Call& call);
  static HttpResponse activity(Api& api, Api::Call& call);

  // The patient portal (api_portal.cc).
  static HttpResponse portalPage(Api& api, Api::Call& call);
  static HttpResponse portalAsset(Api& api, Api::Call& call);
  static HttpResponse portalAccept(Api& api, Api::Call& call);
  static HttpResponse portalSignIn(Api& api, Api::Call& call);
  static HttpResponse portalSession(Api& api, Api::Call& call);
  static HttpResponse portalLogout(Api& api, Api::Call& call);
  static HttpResponse portalRecord(Api& api, Api::Call& call);
  static HttpResponse portalFhir(Api& api, Api::Call& call);
  static HttpResponse portalAccess(Api& api, Api::Call& call);
  static HttpResponse adminInvite(Api& api, Api::Call& call);
  static HttpResponse syncInvite(Api& api, Api::Call& call);
  static HttpResponse adminNoteSharing(Api& api, Api::Call& call);

  // Attachments (api_attachments.cc).
  static HttpResponse attachmentDeclare(Api& api, Api::Call& call);
  static HttpResponse attachmentStatus(Api& api, Api::Call& call);
  static HttpResponse attachmentChunkPut(Api& api, Api::Call& call);
  static HttpResponse attachmentChunkGet(Api& api, Api::Call& call);
  static HttpResponse attachmentPurge(Api& api, Api::Call& call);

  // Helpers shared by the handlers.
  static Store& store(Api& api) { return api.m_store; }
  static const Config& config(Api& api) { return api.m_config; }
  static Logger& log(Api& api) { return api.m_log; }
  static Metrics& metricsOf(Api& api) { return api.m_metrics; }
  static std::atomic<std::int64_t>& storageFullSince(Api& api) { return api.m_storageFullSince; }
  static ChartCache& charts(Api& api) { return api.m_charts; }
  static BlobStore& blobs(Api& api) { return *api.m_blobs; }
  // The attachments' bytes for FHIR exports (readAttachmentContent; a blob
  // the server cannot read whole and intact is exported without its bytes).
  static AttachmentContent attachmentContent(Api& api) {
    return [&api](const std::string& patient, const std::string& hash) -> std::optional<std::string> {
      auto content = readAttachmentContent(store(api), blobs(api), patient, hash);
      return content.isOk() ? content.value() : std::nullopt;
    };
  }
  static LoginThrottle& accountThrottle(Api& api) { return api.m_accountThrottle; }
  static LoginThrottle& addressThrottle(Api& api) { return api.m_addressThrottle; }
};

// Responses.
HttpResponse jsonResponse(int status, const json::Value& body);
// Maps a Status to an HTTP error: invalid/corrupt -> 400, not found -> 404,
// exists -> 409, a full storage -> 507 (logged, with Retry-After), other I/O ->
// 503, anything else -> 500 (logged).
HttpResponse statusResponse(Api& api, const Status& s);

// Parses the body as a JSON object; a 400 response on failure.
std::optional<json::Value> parseBody(const HttpRequest& req, HttpResponse& error);
// Parses the body as a JSON object and lets `read` take its members; the
// error response (415, or 400 for bad JSON, a missing, mistyped or unknown
// member) when that fails, nullopt when the members were read.
std::optional<HttpResponse> readObject(const HttpRequest& req, const std::function<void(json::ObjectReader&)>& read);

// Sets the acting user/device/address of a write transaction from the call.
void setActor(WriteTx& tx, const Api::Call& call);

// Checks a user name and password (throttled; failures audited) and opens a
// session: for the API (a nurse needs a device, a sysadmin none) or for the
// console (sysadmins only, without a device). The error response otherwise.
enum class SignInFor { kApi, kConsole };
struct SignedIn {
  User user;
  std::string token;
  std::int64_t expiresAt = 0;
};
std::variant<SignedIn, HttpResponse> signIn(Api& api, Api::Call& call, const std::string& username,
                                            const std::string& password, SignInFor purpose);

// The console: the name of its session cookie, and the CSRF token that goes
// with a session token (web_page.h, csrfToken).
inline constexpr std::string_view kConsoleCookie = "charta_console";
std::string csrfTokenFor(const std::string& sessionToken);

// 429 too_many_attempts with Retry-After, for a throttled sign-in.
HttpResponse throttled(std::int64_t waitMs);
// Reads {"username", "password"} (the sign-in body); the error response when
// that fails.
std::optional<HttpResponse> readCredentials(const HttpRequest& req, std::string& username, std::string& password);

// Deletes every attachment of a patient (rows, and bytes on PostgreSQL) in
// the transaction and sets `removed` to how many there were. The caller calls
// blobs.finishRemove(patient, "") once the transaction has committed.
Status purgePatientAttachments(WriteTx& tx, BlobStore& blobs, const std::string& patient, std::int64_t& removed);

// A clinic admin may act only on their own clinic; a sysadmin on any.
bool mayActOnClinic(const User& user, const std::string& clinic);

}  // namespace charta::server
