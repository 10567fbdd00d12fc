// Byte-level helpers for tests of the op codec: hand-written encodings and
// re-framing of real ones. Test code only; the codec's own primitives are in
// crdt/src/coding.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "charta/crdt/op_id.h"

namespace charta::testing {

inline crdt::OpId id(std::uint64_t replica, std::uint64_t seq) { return crdt::OpId{crdt::ReplicaId{replica}, seq}; }

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

inline void putVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint the test itself wrote (REQUIRES: well formed).
inline std::uint64_t takeVarint(std::string_view& in) {
  std::uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    const auto b = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    v |= std::uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) return v;
  }
}

// Re-frames an encoding as a newer minor version would write it: `extra`
// appended to the header and to every op body, lengths adjusted.
inline std::string withTrailingFields(std::string_view enc, bool batch, std::string_view extra) {
  std::string out(1, enc.front());
  enc.remove_prefix(1);
  const std::uint64_t headerLen = takeVarint(enc);
  putVarint(out, headerLen + extra.size());
  std::string_view header = enc.substr(0, headerLen);
  out.append(header);
  out.append(extra);
  enc.remove_prefix(headerLen);
  std::uint64_t count = 1;
  if (batch) count = takeVarint(header);
  for (std::uint64_t i = 0; i < count; ++i) {
    out.push_back(enc.front());
    enc.remove_prefix(1);
    const std::uint64_t len = takeVarint(enc);
    putVarint(out, len + extra.size());
    out.append(enc.substr(0, len));
    out.append(extra);
    enc.remove_prefix(len);
  }
  return out;
}

}  // namespace charta::testing
