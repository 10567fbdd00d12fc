// The sysadmin console: its page and assets (built into the binary), its
// cookie session with a CSRF token, and the activity of the last day.

#include "api_internal.h"
#include "web_page.h"

// The console's files. CHARTA_CONSOLE_DIR is their folder, a string literal
// from CMake (which also rebuilds this object when one of them changes).
#ifndef CHARTA_CONSOLE_DIR
#error "CHARTA_CONSOLE_DIR must name the console's folder"
#endif
CHARTA_EMBED_FILE(charta_console_html, CHARTA_CONSOLE_DIR "/index.html");
CHARTA_EMBED_FILE(charta_console_js, CHARTA_CONSOLE_DIR "/console.js");
CHARTA_EMBED_FILE(charta_console_css, CHARTA_CONSOLE_DIR "/console.css");
CHARTA_EMBED_FILE(charta_console_icon, CHARTA_CONSOLE_DIR "/icon.svg");

namespace charta::server {
namespace {

struct Asset {
  const char* name;
  const char* type;
  const char* begin;
  const char* end;
};

const Asset kAssets[] = {
    {"console.js", "text/javascript; charset=utf-8", charta_console_js_begin, charta_console_js_end},
    {"console.css", "text/css; charset=utf-8", charta_console_css_begin, charta_console_css_end},
    {"icon.svg", "image/svg+xml", charta_console_icon_begin, charta_console_icon_end},
};

json::Value sessionJson(const User& user, const std::string& token, std::int64_t expiresAt) {
  return json::Object{
      {"user",
       json::Object{{"id", user.id}, {"display_name", user.displayName}, {"role", std::string(roleName(user.role))}}},
      {"csrf", csrfTokenFor(token)},
      {"expires_at", expiresAt}};
}

}  // namespace

std::string csrfTokenFor(const std::string& sessionToken) { return csrfToken("charta.console.csrf", sessionToken); }

HttpResponse ApiRoutes::consolePage(Api&, Api::Call&) {
  return pageFile("text/html; charset=utf-8", charta_console_html_begin, charta_console_html_end);
}

HttpResponse ApiRoutes::consoleAsset(Api&, Api::Call& call) {
  if (auto shared = sharedPageFile(call.pathParams[0])) return *shared;
  for (const Asset& a : kAssets) {
    if (call.pathParams[0] == a.name) return pageFile(a.type, a.begin, a.end);
  }
  return errorResponse(404, "not_found", "no such console file: " + call.pathParams[0]);
}

HttpResponse ApiRoutes::consoleSignIn(Api& api, Api::Call& call) {
  std::string username;
  std::string password;
  if (auto bad = readCredentials(call.req, username, password)) return *bad;
  if (call.req.header("x-charta-device")) {
    return errorResponse(403, "forbidden", "the console is signed in to without a device");
  }
  auto result = signIn(api, call, username, password, SignInFor::kConsole);
  if (auto* error = std::get_if<HttpResponse>(&result)) return *error;
  const SignedIn& in = std::get<SignedIn>(result);
  HttpResponse r = jsonResponse(200, sessionJson(in.user, in.token, in.expiresAt));
  r.headers.emplace_back("Set-Cookie",
                         sessionCookie(call.req, kConsoleCookie, in.token, (in.expiresAt - nowMs()) / 1000));
  return r;
}

HttpResponse ApiRoutes::consoleSession(Api&, Api::Call& call) {
  if (!call.viaCookie) return errorResponse(401, "unauthenticated", "sign in to the console first");
  return jsonResponse(200, sessionJson(*call.user, call.sessionToken, call.sessionExpiresAt));
}

HttpResponse ApiRoutes::consoleLogout(Api& api, Api::Call& call) {
  if (!call.viaCookie) return errorResponse(401, "unauthenticated", "sign in to the console first");
  Status s = store(api).write([&](WriteTx& tx) -> Status {
    setActor(tx, call);
    Status e = endSession(tx, call.sessionToken);
    if (!e.isOk()) return e;
    tx.audit({"", "", "", "auth.console_logout", call.user->clinic, "", "{}"});
    return Status::ok();
  });
  if (!s.isOk()) return statusResponse(api, s);
  HttpResponse r = jsonResponse(200, json::Object{{"ok", true}});
  r.headers.emplace_back("Set-Cookie", sessionCookie(call.req, kConsoleCookie, "", 0));
  return r;
}

HttpResponse ApiRoutes::activity(Api& api, Api::Call& call) {
  if (!call.req.query.empty()) return errorResponse(400, "invalid", "activity takes no query parameters");
  json::Array hours;
  for (const ActivityHour& h : metricsOf(api).lastDay(nowMs())) {
    hours.push_back(json::Object{{"start", h.start},
                                 {"pushes", h.pushes},
                                 {"pulls", h.pulls},
                                 {"ops_in", h.opsIn},
                                 {"ops_out", h.opsOut},
                                 {"errors", h.errors}});
  }
  return jsonResponse(200, json::Object{{"hours", std::move(hours)}, {"since", api.m_startedAt}});
}

}  // namespace charta::server
