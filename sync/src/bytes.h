// A tiny length-prefixed binary format for the replica's sealed payloads
// (summaries, audit events, sessions): varints and byte strings, read back
// strictly (a short or garbled payload is an error, never a crash). It is
// on-device only and versioned by the replica's format.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace charta::sync {

class ByteWriter {
 public:
  ByteWriter& u64(std::uint64_t v) {
    while (v >= 0x80) {
      m_out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    m_out.push_back(static_cast<char>(v));
    return *this;
  }
  ByteWriter& i64(std::int64_t v) {
    return u64((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  ByteWriter& str(std::string_view s) {
    u64(s.size());
    m_out.append(s);
    return *this;
  }
  std::string& bytes() { return m_out; }

 private:
  std::string m_out;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : m_in(in) {}
  bool u64(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_in.size()) return fail();
      const auto byte = static_cast<unsigned char>(m_in[m_pos++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return fail();
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!u64(n) || n > m_in.size() - m_pos) return fail();
    s.assign(m_in.substr(m_pos, static_cast<std::size_t>(n)));
    m_pos += static_cast<std::size_t>(n);
    return true;
  }
  bool atEnd() const { return m_ok && m_pos == m_in.size(); }
  bool ok() const { return m_ok; }

 private:
  bool fail() {
    m_ok = false;
    return false;
  }
  std::string_view m_in;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

}  // namespace charta::sync
