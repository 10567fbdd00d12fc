// The sysadmin console: its page and assets (built into the binary), its
// cookie session with a CSRF token, and the activity of the last day.

#include <cstring>

#include "api_internal.h"
#include "crypto.h"

// The console's files, built into this object. CHARTA_CONSOLE_DIR is the
// folder that holds them, a string literal from CMake (which also rebuilds
// this object when one of them changes).
#ifndef CHARTA_CONSOLE_DIR
#error "CHARTA_CONSOLE_DIR must name the console's folder"
#endif
// clang-format off
#define CHARTA_EMBED(symbol, file)            \
  asm(".pushsection .rodata\n"                \
      ".balign 16\n"                          \
      ".globl " #symbol "_begin\n"            \
      ".hidden " #symbol "_begin\n"           \
      #symbol "_begin:\n"                     \
      ".incbin \"" CHARTA_CONSOLE_DIR "/" file "\"\n" \
      ".globl " #symbol "_end\n"              \
      ".hidden " #symbol "_end\n"             \
      #symbol "_end:\n"                       \
      ".popsection\n");                       \
  extern "C" const char symbol##_begin[];     \
  extern "C" const char symbol##_end[];
// clang-format on

CHARTA_EMBED(charta_console_html, "index.html")
CHARTA_EMBED(charta_console_js, "console.js")
CHARTA_EMBED(charta_console_css, "console.css")
CHARTA_EMBED(charta_console_icon, "icon.svg")

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

// Everything the console loads comes from this server; nothing inline, no
// frames, no form posts elsewhere.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

HttpResponse consoleFile(const char* type, const char* begin, const char* end) {
  HttpResponse r;
  r.contentType = type;
  r.body.assign(begin, static_cast<std::size_t>(end - begin));
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return r;
}

std::string cookie(const HttpRequest& req, const std::string& value, std::int64_t maxAgeSeconds) {
  std::string c = std::string(kConsoleCookie) + "=" + value +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(maxAgeSeconds);
  if (req.tls) c += "; Secure";
  return c;
}

json::Value sessionJson(const User& user, const std::string& token, std::int64_t expiresAt) {
  return json::Object{
      {"user",
       json::Object{{"id", user.id}, {"display_name", user.displayName}, {"role", std::string(roleName(user.role))}}},
      {"csrf", csrfTokenFor(token)},
      {"expires_at", expiresAt}};
}

}  // namespace

std::string csrfTokenFor(const std::string& sessionToken) {
  return toHex(digestParts({"charta.console.csrf", sessionToken}));
}

std::optional<std::string> cookieValue(const std::string& header, std::string_view name) {
  std::size_t i = 0;
  while (i < header.size()) {
    std::size_t end = header.find(';', i);
    if (end == std::string::npos) end = header.size();
    std::string_view pair(header.data() + i, end - i);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (!value.empty()) return std::string(value);
    }
    i = end + 1;
  }
  return std::nullopt;
}

HttpResponse ApiRoutes::consolePage(Api&, Api::Call&) {
  return consoleFile("text/html; charset=utf-8", charta_console_html_begin, charta_console_html_end);
}

HttpResponse ApiRoutes::consoleAsset(Api&, Api::Call& call) {
  for (const Asset& a : kAssets) {
    if (call.pathParams[0] == a.name) return consoleFile(a.type, a.begin, a.end);
  }
  return errorResponse(404, "not_found", "no such console file: " + call.pathParams[0]);
}

HttpResponse ApiRoutes::consoleSignIn(Api& api, Api::Call& call) {
  std::string username;
  std::string password;
  if (auto bad = readObject(call.req, [&](json::ObjectReader& r) {
        username = r.requiredString("username", 64);
        password = r.requiredString("password", 1024);
      })) {
    return *bad;
  }
  if (call.req.header("x-charta-device")) {
    return errorResponse(403, "forbidden", "the console is signed in to without a device");
  }
  auto result = signIn(api, call, username, password, SignInFor::kConsole);
  if (auto* error = std::get_if<HttpResponse>(&result)) return *error;
  const SignedIn& in = std::get<SignedIn>(result);
  HttpResponse r = jsonResponse(200, sessionJson(in.user, in.token, in.expiresAt));
  r.headers.emplace_back("Set-Cookie", cookie(call.req, in.token, (in.expiresAt - nowMs()) / 1000));
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
  r.headers.emplace_back("Set-Cookie", cookie(call.req, "", 0));
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
