// Files for the attachment suites: n bytes that start with a media type's
// signature, then filler from a seed (not an image: the tablet and the
// server check the signature only). The same seed gives the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace charta::test {

// A "JPEG" of n bytes (n >= 4).
inline std::string jpeg(std::size_t n, std::uint64_t seed) {
  std::string out("\xFF\xD8\xFF\xE0", 4);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  while (out.size() < n) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    out.push_back(static_cast<char>(s & 0xff));
  }
  out.resize(n);
  return out;
}

// A "PNG" of n bytes (n >= 8).
inline std::string png(std::size_t n, std::uint64_t seed) {
  std::string out = jpeg(n, seed);
  out.replace(0, 8, std::string("\x89PNG\r\n\x1A\n", 8));
  return out;
}

}  // namespace charta::test
