#include "web_page.h"

#include "crypto.h"

#ifndef CHARTA_WEB_DIR
#error "CHARTA_WEB_DIR must name the folder of the pages' shared files"
#endif
CHARTA_EMBED_FILE(charta_web_dom, CHARTA_WEB_DIR "/dom.js");
CHARTA_EMBED_FILE(charta_web_base, CHARTA_WEB_DIR "/base.css");

namespace charta::server {

std::optional<HttpResponse> sharedPageFile(std::string_view name) {
  if (name == "dom.js") return pageFile("text/javascript; charset=utf-8", charta_web_dom_begin, charta_web_dom_end);
  if (name == "base.css") return pageFile("text/css; charset=utf-8", charta_web_base_begin, charta_web_base_end);
  return std::nullopt;
}

HttpResponse pageFile(const char* contentType, const char* begin, const char* end) {
  HttpResponse r;
  r.contentType = contentType;
  r.body.assign(begin, static_cast<std::size_t>(end - begin));
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return r;
}

std::string sessionCookie(const HttpRequest& req, std::string_view name, const std::string& value,
                          std::int64_t maxAgeSeconds) {
  std::string c =
      std::string(name) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(maxAgeSeconds);
  if (req.tls) c += "; Secure";
  return c;
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

std::string csrfToken(std::string_view domain, const std::string& sessionToken) {
  return toHex(digestParts({domain, sessionToken}));
}

}  // namespace charta::server
