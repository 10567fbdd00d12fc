// What the benchmarks that talk to charta-server over HTTP share: a failed
// call described for stderr, and the JSON answers read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

}  // namespace charta::bench
