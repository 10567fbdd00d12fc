// libFuzzer target for the tablet's key wraps, as read back from storage:
//  - a PassphraseVault blob (platforms/desktop/passphrase_vault.cc: version,
//    Argon2id opslimit and memlimit, salt, wrapped data key), through
//    PassphraseVault::unwrap;
//  - a wrapped key (nonce || encrypted key || tag, sync/src/crypto_sodium.cc),
//    through sync::unwrapKey, and the same bytes through sync::open.
// Every input is tried as each of them.
//
// The vault's header is read first with an empty passphrase, which stops
// unwrap() right after the header checks, before any Argon2id: so every input
// exercises the decoder without paying for a derivation. Only blobs whose
// header asks for at most kCheapOps passes over kCheapMemBytes are then
// unwrapped with the real passphrase, so that a hostile blob cannot make one
// run take seconds here (unwrap() itself accepts up to
// PassphraseVault::kMaxOpsLimit passes over kMaxMemLimitBytes).
//
// Properties, beyond "never crashes, leaks or hangs":
//  - the header verdict agrees with the format in passphrase_vault.h, decoded
//    here independently: kUnsupportedVersion for a version above 1,
//    kCorruption for any other damage or a parameter out of range, and
//    otherwise the passphrase is the only thing left to check;
//  - a blob or wrap that opens yields exactly the key the seeds wrapped, and
//    no single changed bit of it opens any more (the format is canonical and
//    authenticated end to end);
//  - a wrong passphrase is kRejected, never kCorruption, and the same input
//    gives the same answer twice;
//  - what open() returns seals and opens again to the same bytes.
// The seeds (key_wrap_corpus/) come from make_fuzz_seeds.cc with the keys of
// key_wrap_fuzz.h. Built only with CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include "key_wrap_fuzz.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "charta/platform/passphrase_vault.h"
#include "charta/sync/crypto.h"

namespace {

using charta::crdt::Result;
using charta::crdt::Status;
using charta::platform::PassphraseVault;
using charta::sync::SecretKey;
using Code = Status::Code;

constexpr std::uint64_t kCheapOps = 4;
constexpr std::uint64_t kCheapMemBytes = 256 * 1024;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "key wrap property broken: %s\n", what.c_str());
  __builtin_trap();
}

std::uint64_t u64At(std::string_view in, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
  return v;
}

// The header of a vault blob, read from the format in passphrase_vault.h.
enum class Header : std::uint8_t { kNewer, kDamaged, kValid };
struct VaultHeader {
  Header verdict = Header::kDamaged;
  std::uint64_t ops = 0;
  std::uint64_t mem = 0;
};
VaultHeader readHeader(std::string_view blob) {
  VaultHeader h;
  if (blob.empty()) return h;
  const auto version = static_cast<unsigned char>(blob[0]);
  if (version > PassphraseVault::kFormatVersion) {
    h.verdict = Header::kNewer;
    return h;
  }
  if (version != PassphraseVault::kFormatVersion || blob.size() != PassphraseVault::kBlobBytes) return h;
  h.ops = u64At(blob, 1);
  h.mem = u64At(blob, 9);
  const bool opsOk = h.ops >= 1 && h.ops <= PassphraseVault::kMaxOpsLimit;  // libsodium's minimum is 1
  const bool memOk = h.mem >= 8192 && h.mem <= PassphraseVault::kMaxMemLimitBytes && h.mem % 1024 == 0;
  if (opsOk && memOk) h.verdict = Header::kValid;
  return h;
}
bool cheap(const VaultHeader& h) {
  return h.verdict == Header::kValid && h.ops <= kCheapOps && h.mem <= kCheapMemBytes;
}

bool isDataKey(const SecretKey& key) {
  const std::string want = charta::fuzz::dataKeyBytes();
  return !key.empty() && std::memcmp(key.data(), want.data(), SecretKey::kBytes) == 0;
}

const SecretKey& kek() {
  static const SecretKey key = SecretKey::fromBytes(charta::fuzz::kekBytes()).value();
  return key;
}

void checkVault(std::string_view blob) {
  PassphraseVault vault(PassphraseVault::Strength::kMinimumForTests);
  const std::string_view user = charta::fuzz::kWrapUser;

  // The header alone: an empty passphrase stops before Argon2id.
  const VaultHeader header = readHeader(blob);
  const Result<SecretKey> headerOnly = vault.unwrap(user, "", blob);
  if (headerOnly.isOk()) broken("a vault blob opened with an empty passphrase");
  const Code code = headerOnly.status().code();
  switch (header.verdict) {
    case Header::kNewer:
      if (code != Code::kUnsupportedVersion) broken("a newer vault blob gave " + headerOnly.status().toString());
      break;
    case Header::kDamaged:
      if (code != Code::kCorruption) broken("a damaged vault header gave " + headerOnly.status().toString());
      break;
    case Header::kValid:
      if (code != Code::kRejected) broken("a valid vault header gave " + headerOnly.status().toString());
      break;
  }
  if (!cheap(header)) return;

  // The whole blob, with the passphrase the seeds were made with.
  const Result<SecretKey> opened = vault.unwrap(user, charta::fuzz::kWrapPassphrase, blob);
  const Result<SecretKey> again = vault.unwrap(user, charta::fuzz::kWrapPassphrase, blob);
  if (opened.isOk() != again.isOk()) broken("one vault blob opened once and failed once");
  if (!opened.isOk()) {
    if (opened.status().code() != Code::kRejected) broken("a vault blob that fails gave " + opened.status().toString());
    return;
  }
  if (!isDataKey(opened.value()) || !isDataKey(again.value())) broken("a vault blob opened to another key");
  // Another user, or any changed bit, must not open it.
  if (vault.unwrap("nurse.b", charta::fuzz::kWrapPassphrase, blob).isOk())
    broken("a vault blob opened for another user");
  std::string changed(blob);
  for (std::size_t i = 0; i < changed.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 7) {
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      if (const VaultHeader h = readHeader(changed); h.verdict != Header::kValid || cheap(h)) {
        if (vault.unwrap(user, charta::fuzz::kWrapPassphrase, changed).isOk()) {
          broken("a vault blob with byte " + std::to_string(i) + " changed still opens");
        }
      }
      changed[i] = blob[i];
    }
  }
}

void checkKeyWrap(std::string_view wrapped) {
  const std::string_view ad = charta::fuzz::kWrapAssociatedData;
  const Result<SecretKey> key = charta::sync::unwrapKey(kek(), wrapped, ad);
  const Result<SecretKey> again = charta::sync::unwrapKey(kek(), wrapped, ad);
  if (key.isOk() != again.isOk()) broken("one wrapped key opened once and failed once");
  if (!key.isOk()) {
    if (key.status().code() != Code::kCorruption) broken("a wrapped key that fails gave " + key.status().toString());
    return;
  }
  if (!isDataKey(key.value()) || !isDataKey(again.value())) broken("a wrapped key opened to another key");
  if (charta::sync::unwrapKey(kek(), wrapped, "patients.key\x1fp-2").isOk()) {
    broken("a wrapped key opened under another patient's associated data");
  }
  // A fresh wrap of what came out opens to the same key.
  const std::string rewrapped = charta::sync::wrapKey(kek(), key.value(), ad);
  const Result<SecretKey> reopened = charta::sync::unwrapKey(kek(), rewrapped, ad);
  if (!reopened.isOk() || !isDataKey(reopened.value())) broken("a re-wrapped key does not open to the same key");
  std::string changed(wrapped);
  for (std::size_t i = 0; i < changed.size(); ++i) {
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    if (charta::sync::unwrapKey(kek(), changed, ad).isOk()) {
      broken("a wrapped key with byte " + std::to_string(i) + " changed still opens");
    }
    changed[i] = wrapped[i];
  }
}

void checkSealed(std::string_view sealed) {
  const std::string_view ad = charta::fuzz::kWrapAssociatedData;
  const Result<std::string> plain = charta::sync::open(kek(), sealed, ad);
  if (!plain.isOk()) {
    if (plain.status().code() != Code::kCorruption) broken("sealed bytes that fail gave " + plain.status().toString());
    return;
  }
  if (plain.value().size() + charta::sync::kSealOverheadBytes != sealed.size()) broken("open() returned a wrong size");
  const Result<std::string> again = charta::sync::open(kek(), charta::sync::seal(kek(), plain.value(), ad), ad);
  if (!again.isOk() || again.value() != plain.value()) broken("sealed bytes do not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  checkVault(input);
  checkKeyWrap(input);
  checkSealed(input);
  return 0;
}
