// PassphraseVault: Argon2id over the passphrase, XChaCha20-Poly1305 over the
// data key, all through charta::sync's crypto adapter (no libsodium here).
#include "charta/platform/passphrase_vault.h"

#include <string>
#include <utility>

namespace charta::platform {

namespace {

using crdt::Result;
using crdt::Status;
using sync::PwhashParams;
using sync::SecretKey;

constexpr std::size_t kVersionOffset = 0;
constexpr std::size_t kOpsOffset = 1;
constexpr std::size_t kMemOffset = 9;
constexpr std::size_t kSaltOffset = 17;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kWrappedOffset = kSaltOffset + kSaltBytes;
static_assert(kWrappedOffset + SecretKey::kBytes + sync::kSealOverheadBytes == PassphraseVault::kBlobBytes);

// Binds the wrapped key to the format and the user: "charta.vault.v1\0" + user.
std::string associatedData(std::string_view user) {
  static constexpr char kPrefix[] = "charta.vault.v1";  // the array's own '\0' is part of the prefix
  std::string ad(kPrefix, sizeof kPrefix);
  ad.append(user);
  return ad;
}

void putU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<unsigned char>(v >> (8 * i))));
}

std::uint64_t getU64(std::string_view in, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
  }
  return v;
}

// UTF-8 code points: every byte that is not a continuation byte (10xxxxxx).
std::size_t countChars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

PwhashParams paramsFor(PassphraseVault::Strength strength) {
  switch (strength) {
    case PassphraseVault::Strength::kModerate: return PwhashParams::moderate();
    case PassphraseVault::Strength::kTablet: return PwhashParams::tablet();
    case PassphraseVault::Strength::kInteractive: return PwhashParams::interactive();
    case PassphraseVault::Strength::kMinimumForTests: return PwhashParams::minimumForTests();
  }
  return PwhashParams::moderate();
}

Status wrongPassphrase() { return Status::rejected("wrong passphrase"); }

}  // namespace

std::string PassphraseVault::name() const { return "passphrase"; }

Result<std::string> PassphraseVault::wrap(std::string_view user, std::string_view passphrase,
                                          const SecretKey& dataKey) {
  if (user.empty()) return Status::invalidArgument("vault: empty user id");
  if (countChars(passphrase) < kMinPassphraseChars) {
    return Status::invalidArgument("vault: the passphrase must have at least " + std::to_string(kMinPassphraseChars) +
                                   " characters");
  }
  if (dataKey.empty()) return Status::invalidArgument("vault: empty data key");

  const PwhashParams params = paramsFor(m_strength);
  Result<SecretKey> kek = sync::deriveKey(passphrase, params);
  if (!kek.isOk()) return kek.status();

  std::string blob;
  blob.reserve(kBlobBytes);
  blob.push_back(static_cast<char>(kFormatVersion));
  putU64(blob, params.opsLimit);
  putU64(blob, params.memLimitBytes);
  blob.append(params.salt);
  blob.append(sync::wrapKey(kek.value(), dataKey, associatedData(user)));
  if (blob.size() != kBlobBytes) return Status::ioError("vault: unexpected blob size " + std::to_string(blob.size()));
  return blob;
}

Result<SecretKey> PassphraseVault::unwrap(std::string_view user, std::string_view passphrase, std::string_view blob) {
  if (user.empty()) return Status::invalidArgument("vault: empty user id");
  if (blob.empty()) return Status::corruption("vault: empty key blob");

  const auto version = static_cast<unsigned char>(blob[kVersionOffset]);
  if (version > kFormatVersion) {
    return Status::unsupportedVersion("vault: key blob format " + std::to_string(version) +
                                      " is newer than this build reads (" + std::to_string(kFormatVersion) + ")");
  }
  if (version != kFormatVersion) return Status::corruption("vault: key blob has no valid format byte");
  if (blob.size() != kBlobBytes) {
    return Status::corruption("vault: key blob has " + std::to_string(blob.size()) + " bytes, expected " +
                              std::to_string(kBlobBytes));
  }

  // The parameters the blob was written with; bounded so that a tampered blob
  // cannot make unlock run for hours or ask for terabytes.
  const PwhashParams floor = PwhashParams::minimumForTests();
  PwhashParams params;
  params.opsLimit = getU64(blob, kOpsOffset);
  params.memLimitBytes = getU64(blob, kMemOffset);
  params.salt = std::string(blob.substr(kSaltOffset, kSaltBytes));
  if (params.opsLimit < floor.opsLimit || params.opsLimit > kMaxOpsLimit) {
    return Status::corruption("vault: key blob has an Argon2id opslimit of " + std::to_string(params.opsLimit));
  }
  if (params.memLimitBytes < floor.memLimitBytes || params.memLimitBytes > kMaxMemLimitBytes ||
      params.memLimitBytes % 1024 != 0) {
    return Status::corruption("vault: key blob has an Argon2id memlimit of " + std::to_string(params.memLimitBytes) +
                              " bytes");
  }

  // An empty passphrase was never accepted by wrap(): it cannot be right.
  if (passphrase.empty()) return wrongPassphrase();
  Result<SecretKey> kek = sync::deriveKey(passphrase, params);
  if (!kek.isOk()) return kek.status();

  Result<SecretKey> dataKey = sync::unwrapKey(kek.value(), blob.substr(kWrappedOffset), associatedData(user));
  if (!dataKey.isOk()) return wrongPassphrase();
  return dataKey;
}

}  // namespace charta::platform
