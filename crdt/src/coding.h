// Internal: little-endian and varint primitives shared by the op codec and the
// canonical state encoding. Not part of the public API.
//
// Writers append to a std::string. Readers consume from a string_view and
// return false on truncation or overflow; they never read past the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace charta::crdt::coding {

void putVarint(std::string& out, std::uint64_t v);
void putZigzag(std::string& out, std::int64_t v);
void putFixed64(std::string& out, std::uint64_t v);
void putDouble(std::string& out, double v);
// Length-prefixed bytes.
void putBytes(std::string& out, std::string_view bytes);

bool getVarint(std::string_view& in, std::uint64_t& v);
bool getZigzag(std::string_view& in, std::int64_t& v);
bool getFixed64(std::string_view& in, std::uint64_t& v);
bool getDouble(std::string_view& in, double& v);
// Fails when the length exceeds maxLen or the remaining input.
bool getBytes(std::string_view& in, std::string_view& bytes, std::size_t maxLen);

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// 64-bit FNV-1a followed by a final avalanche (for state hashes, not security).
std::uint64_t hash64(std::string_view bytes);

}  // namespace charta::crdt::coding
