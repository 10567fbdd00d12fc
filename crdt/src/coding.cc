#include "coding.h"

#include <bit>
#include <cstring>

namespace charta::crdt::coding {

void putVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void putZigzag(std::string& out, std::int64_t v) { putVarint(out, zigzag(v)); }

void putFixed64(std::string& out, std::uint64_t v) {
  for (unsigned i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void putDouble(std::string& out, double v) { putFixed64(out, std::bit_cast<std::uint64_t>(v)); }

void putBytes(std::string& out, std::string_view bytes) {
  putVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

bool getVarint(std::string_view& in, std::uint64_t& v) {
  std::uint64_t result = 0;
  for (unsigned shift = 0, i = 0; i < in.size() && shift < 64; ++i, shift += 7) {
    const auto byte = static_cast<std::uint8_t>(in[i]);
    // The tenth byte may carry only the top bit of a 64-bit value.
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      in.remove_prefix(i + 1);
      v = result;
      return true;
    }
  }
  return false;
}

bool getZigzag(std::string_view& in, std::int64_t& v) {
  std::uint64_t raw = 0;
  if (!getVarint(in, raw)) return false;
  v = unzigzag(raw);
  return true;
}

bool getFixed64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < 8; ++i) result |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(8);
  v = result;
  return true;
}

bool getDouble(std::string_view& in, double& v) {
  std::uint64_t bits = 0;
  if (!getFixed64(in, bits)) return false;
  v = std::bit_cast<double>(bits);
  return true;
}

bool getBytes(std::string_view& in, std::string_view& bytes, std::size_t maxLen) {
  std::uint64_t len = 0;
  std::string_view rest = in;
  if (!getVarint(rest, len)) return false;
  if (len > maxLen || len > rest.size()) return false;
  bytes = rest.substr(0, static_cast<std::size_t>(len));
  rest.remove_prefix(static_cast<std::size_t>(len));
  in = rest;
  return true;
}

std::uint64_t hash64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace charta::crdt::coding
