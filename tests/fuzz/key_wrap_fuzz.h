// What the key wrap fuzzer (key_wrap_fuzz.cc) and its seed maker
// (make_fuzz_seeds.cc) share: the user, passphrase and keys the seeds were
// made with, so that a seed that unwraps is recognised as the real thing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace charta::fuzz {

inline constexpr std::string_view kWrapUser = "nurse.a";
inline constexpr std::string_view kWrapPassphrase = "correct horse battery";
// The associated data of a patient key wrapped under a replica's data key,
// as the replica writes it for patient "p-1".
inline constexpr std::string_view kWrapAssociatedData = "patients.key\x1fp-1";

// 32 bytes: the data key the vault seeds wrap, and the key-encryption key
// the key wrap seeds are sealed under.
inline std::string dataKeyBytes() {
  std::string out;
  for (int i = 0; i < 32; ++i) out.push_back(static_cast<char>(i));
  return out;
}
inline std::string kekBytes() {
  std::string out;
  for (int i = 0; i < 32; ++i) out.push_back(static_cast<char>(0xA5 ^ (i * 7)));
  return out;
}

}  // namespace charta::fuzz
