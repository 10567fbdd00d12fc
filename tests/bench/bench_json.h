// A minimal JSON writer for the benchmark report (objects, arrays, strings,
// finite numbers, booleans). Keys and values are written in call order; commas
// are inserted automatically. A non-finite number is written as null, which
// the report checker rejects.
//
// Thread-safety: none; one writer per report.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace charta::bench {

class JsonWriter {
 public:
  JsonWriter& beginObject() { return open('{'); }
  JsonWriter& endObject() { return close('}'); }
  JsonWriter& beginArray() { return open('['); }
  JsonWriter& endArray() { return close(']'); }

  JsonWriter& key(std::string_view k) {
    separate();
    quote(k);
    m_out += ": ";
    m_afterKey = true;
    return *this;
  }
  JsonWriter& value(std::string_view s) {
    separate();
    quote(s);
    return *this;
  }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b) {
    separate();
    m_out += b ? "true" : "false";
    return *this;
  }
  JsonWriter& value(double v) {
    separate();
    m_out += number(v);
    return *this;
  }
  JsonWriter& value(long v) { return value(static_cast<double>(v)); }
  JsonWriter& value(std::size_t v) { return value(static_cast<double>(v)); }
  JsonWriter& value(int v) { return value(static_cast<double>(v)); }

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  JsonWriter& numbers(std::string_view k, const std::vector<double>& list) {
    key(k).beginArray();
    for (const double v : list) value(v);
    return endArray();
  }

  const std::string& str() const { return m_out; }

  // Shortest readable form: integers for large values, 4 significant digits below.
  static std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    if (std::fabs(v) >= 1000) {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.4g", v);
    }
    return buf;
  }

 private:
  JsonWriter& open(char c) {
    separate();
    m_out += c;
    m_first.push_back(true);
    return *this;
  }
  JsonWriter& close(char c) {
    m_first.pop_back();
    m_out += c;
    return *this;
  }
  void separate() {
    if (m_afterKey) {
      m_afterKey = false;
      return;
    }
    if (m_first.empty()) return;
    if (!m_first.back()) m_out += ", ";
    m_first.back() = false;
  }
  void quote(std::string_view s) {
    m_out += '"';
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        m_out += '\\';
        m_out += c;
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        m_out += buf;
      } else {
        m_out += c;
      }
    }
    m_out += '"';
  }

  std::string m_out;
  std::vector<bool> m_first;
  bool m_afterKey = false;
};

}  // namespace charta::bench
