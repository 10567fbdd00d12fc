#pragma once

// What the server's two web pages share: the sysadmin console (/admin,
// api_console.cc) and the patient portal (/me, api_portal.cc). Their files are
// built into the binary, served under one content security policy (nothing
// inline, nothing from elsewhere, no frames), and each signs in with its own
// HttpOnly, SameSite=Strict cookie.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http.h"

// CHARTA_EMBED_FILE(symbol, "path"): the file's bytes in the binary's
// read-only data, from symbol_begin to symbol_end (`.incbin`; the object that
// uses it lists the file in OBJECT_DEPENDS so that an edit rebuilds it).
// clang-format off
#define CHARTA_EMBED_FILE(symbol, path)      \
  asm(".pushsection .rodata\n"               \
      ".balign 16\n"                         \
      ".globl " #symbol "_begin\n"           \
      ".hidden " #symbol "_begin\n"          \
      #symbol "_begin:\n"                    \
      ".incbin \"" path "\"\n"               \
      ".globl " #symbol "_end\n"             \
      ".hidden " #symbol "_end\n"            \
      #symbol "_end:\n"                      \
      ".popsection\n");                      \
  extern "C" const char symbol##_begin[];    \
  extern "C" const char symbol##_end[]
// clang-format on

namespace charta::server {

// One file of a page, with the content security policy, no framing, no
// referrer and same-origin isolation headers.
HttpResponse pageFile(const char* contentType, const char* begin, const char* end);

// The files both pages load (server/web/): "dom.js" (DOM helpers) and
// "base.css" (the common style sheet) as page files; nullopt for any other name.
std::optional<HttpResponse> sharedPageFile(std::string_view name);

// A Set-Cookie value for a session: Path=/, HttpOnly, SameSite=Strict,
// Max-Age, and Secure when the request came over TLS. An empty value with
// Max-Age 0 clears the cookie.
std::string sessionCookie(const HttpRequest& req, std::string_view name, const std::string& value,
                          std::int64_t maxAgeSeconds);

// The value of cookie `name` in a Cookie header; nullopt when absent or empty.
std::optional<std::string> cookieValue(const std::string& header, std::string_view name);

// The CSRF token of a session: a hash of its token under a domain name of
// the page ("charta.console.csrf"), so nothing more is stored, and a page that
// cannot read the HttpOnly cookie cannot compute it.
std::string csrfToken(std::string_view domain, const std::string& sessionToken);

}  // namespace charta::server
