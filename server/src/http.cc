// The library-free half of the HTTP seam: request lookups and the JSON error
// body. The listener itself lives in http_cpprest.cc.

#include "http.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace charta::server {

namespace {

const std::string* findFirst(const std::vector<std::pair<std::string, std::string>>& pairs, std::string_view name) {
  for (const auto& [key, value] : pairs) {
    if (key == name) return &value;
  }
  return nullptr;
}

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 when the
// bytes there are not one (overlong forms, surrogates and code points above
// U+10FFFF are not well-formed).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byteAt = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byteAt(i);
  std::size_t length = 0;
  unsigned char secondMin = 0x80;
  unsigned char secondMax = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) secondMin = 0xA0;  // overlong
    if (lead == 0xED) secondMax = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) secondMin = 0x90;  // overlong
    if (lead == 0xF4) secondMax = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  if (byteAt(i + 1) < secondMin || byteAt(i + 1) > secondMax) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byteAt(i + k) < 0x80 || byteAt(i + k) > 0xBF) return 0;
  }
  return length;
}

// Appends s as a JSON string literal, quotes included.
void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8SequenceLength(s, i);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    const std::string_view sequence = s.substr(i, length);
    // U+2028 and U+2029 are valid JSON but not valid JavaScript string content.
    if (sequence == "\xE2\x80\xA8") {
      out += "\\u2028";
    } else if (sequence == "\xE2\x80\xA9") {
      out += "\\u2029";
    } else {
      out += sequence;
    }
    i += length;
  }
  out.push_back('"');
}

}  // namespace

const std::string* HttpRequest::header(std::string_view lowerName) const { return findFirst(headers, lowerName); }

const std::string* HttpRequest::queryParam(std::string_view name) const { return findFirst(query, name); }

HttpResponse errorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.contentType = "application/json";
  std::string body = "{\"error\":{\"code\":";
  appendJsonString(body, code);
  body += ",\"message\":";
  appendJsonString(body, message);
  body += "}}";
  response.body = std::move(body);
  return response;
}

}  // namespace charta::server
