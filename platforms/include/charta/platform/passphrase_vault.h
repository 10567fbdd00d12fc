// PassphraseVault: the Linux desktop's KeyVault, protected by the user's
// passphrase alone (no platform key store).
//
// wrap() derives a key-encryption key (KEK) from the passphrase with Argon2id
// and a fresh random salt, and seals the data key under it, bound to the user
// id. unwrap() reads the Argon2id parameters from the blob itself, never from
// the vault's current strength, so a vault built with stronger parameters
// still opens every blob written before.
//
// Blob format, version 1 (105 bytes, integers little-endian):
//   offset  size  field
//        0     1  format version, 0x01
//        1     8  Argon2id opslimit (u64)
//        9     8  Argon2id memlimit in bytes (u64)
//       17    16  salt
//       33    72  wrapKey(KEK, dataKey, "charta.vault.v1\0" + user):
//                 24-byte nonce || 32-byte encrypted key || 16-byte tag
//
// Errors from unwrap(): a version byte above 1 is kUnsupportedVersion; a blob
// of the wrong size, version 0, parameters outside [libsodium's minimum,
// kMaxOpsLimit / kMaxMemLimitBytes] or a memlimit that is not a whole number
// of KiB is kCorruption (the ceiling keeps a tampered blob from making unlock
// run for hours or allocate terabytes; whole KiB keep the header canonical, so
// every changed byte is noticed); a failed authentication is kRejected
// "wrong passphrase". A wrong passphrase, another user's id and damaged
// parameters, salt or ciphertext cannot be told apart, which is as it should
// be: each yields another key-encryption key.
//
// The passphrase minimum (kMinPassphraseChars, counted in UTF-8 code points)
// is enforced by wrap() only: unwrap() never locks out a passphrase that was
// accepted under an older rule.
//
// Thread-safety: no mutable state; wrap() and unwrap() may run
// concurrently (each derivation allocates its own Argon2id memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "charta/crdt/status.h"
#include "charta/sync/crypto.h"
#include "charta/sync/key_vault.h"

namespace charta::platform {

class PassphraseVault final : public sync::KeyVault {
 public:
  // The Argon2id cost of blobs this vault writes.
  enum class Strength : std::uint8_t {
    kModerate,         // libsodium MODERATE (256 MiB, about 0.5 s to unlock): for real use
    kTablet,           // 128 MiB and 6 passes (about 0.5 s, half the memory): the tablet app
    kInteractive,      // libsodium INTERACTIVE (64 MiB)
    kMinimumForTests,  // libsodium's minimum: tests only, never for a real passphrase
  };

  static constexpr std::uint8_t kFormatVersion = 1;
  static constexpr std::size_t kBlobBytes = 1 + 8 + 8 + 16 + sync::SecretKey::kBytes + sync::kSealOverheadBytes;
  static constexpr std::size_t kMinPassphraseChars = 8;
  // The most a blob may ask of unwrap() (libsodium SENSITIVE is 4 and 1 GiB).
  static constexpr std::uint64_t kMaxOpsLimit = 16;
  static constexpr std::uint64_t kMaxMemLimitBytes = std::uint64_t{1} << 30;

  explicit PassphraseVault(Strength strength = Strength::kModerate) : m_strength(strength) {}

  Strength strength() const { return m_strength; }

  // "passphrase".
  std::string name() const override;

  // kInvalidArgument for an empty user, a passphrase shorter than
  // kMinPassphraseChars or an empty data key; kIoError when Argon2id cannot
  // get its memory.
  crdt::Result<std::string> wrap(std::string_view user, std::string_view passphrase,
                                 const sync::SecretKey& dataKey) override;

  // See the header comment for the errors; also kInvalidArgument for an empty
  // user and kIoError when Argon2id cannot get its memory.
  crdt::Result<sync::SecretKey> unwrap(std::string_view user, std::string_view passphrase,
                                       std::string_view blob) override;

 private:
  Strength m_strength;
};

}  // namespace charta::platform
