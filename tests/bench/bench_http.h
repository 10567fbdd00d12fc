// What the benchmarks that talk to charta-server over HTTP share: a failed
// call described for stderr, the JSON answers read, and the demo clinic's
// sysadmin issuing enrolment codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "charta/crdt/status.h"
#include "json.h"
#include "support/http_client.h"

namespace charta::bench {

// "HTTP 503: {...}" (the body cut at 300 bytes), or "no answer: ..." .
inline std::string describe(const test::HttpResult& r) {
  if (r.status == 0) return "no answer: " + r.error;
  return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
}

// The body as a JSON object; nullopt when it is not one.
inline std::optional<server::json::Value> parseObject(const std::string& body) {
  auto v = server::json::parse(body);
  if (!v.isOk() || !v.value().isObject()) return std::nullopt;
  return std::move(v).value();
}

// A string member, "" when absent or not a string.
inline std::string stringMember(const server::json::Value& v, std::string_view key) {
  const server::json::Value* m = v.find(key);
  const std::string* s = m != nullptr ? m->asString() : nullptr;
  return s != nullptr ? *s : std::string();
}

// The sysadmin of the demo clinic (`charta-server serve --demo=true`),
// signed in over HTTP, issuing enrolment codes for its tablets.
class DemoAdmin {
 public:
  explicit DemoAdmin(const std::string& url) : m_http(url) {}

  crdt::Status signIn() {
    namespace sjson = server::json;
    const test::HttpResult login = m_http.post(
        "/v1/login", sjson::serialize(sjson::Object{{"username", "admin"}, {"password", "demo-admin-pass"}}));
    const auto body = parseObject(login.body);
    if (login.status != 200 || !body) return crdt::Status::ioError("sysadmin sign-in: " + describe(login));
    m_auth = {{"Authorization", "Bearer " + stringMember(*body, "token")}};
    return crdt::Status::ok();
  }

  crdt::Result<std::string> issueCode() {
    namespace sjson = server::json;
    const test::HttpResult r =
        m_http.post("/v1/admin/enrolment-codes", sjson::serialize(sjson::Object{{"clinic", "demo"}}), m_auth);
    const auto body = parseObject(r.body);
    if (r.status != 201 || !body || stringMember(*body, "code").empty()) {
      return crdt::Status::ioError("enrolment code: " + describe(r));
    }
    return stringMember(*body, "code");
  }

  test::HttpClient& http() { return m_http; }

 private:
  test::HttpClient m_http;
  test::HeaderList m_auth;
};

}  // namespace charta::bench
