#include "charta/platform/desktop_vault.h"

#include "secret_service.h"

namespace charta::platform {
namespace {

constexpr std::size_t kKeyIdBytes = 16;
constexpr std::size_t kHeaderBytes = 2 + kKeyIdBytes;

// Hex (as toHex writes it) back to bytes; empty on anything else.
std::string fromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return {};
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string associatedData(std::string_view user, std::string_view keyIdHex) {
  return "charta.vault.keyring\x1f" + std::string(user) + "\x1f" + std::string(keyIdHex);
}

}  // namespace

std::unique_ptr<DesktopVault> DesktopVault::forThisSession(PassphraseVault::Strength strength) {
  return std::make_unique<DesktopVault>(strength, SecretService::connect());
}

DesktopVault::DesktopVault(PassphraseVault::Strength strength, std::unique_ptr<SecretService> keyring)
    : m_passphrase(strength), m_keyring(std::move(keyring)) {}

DesktopVault::~DesktopVault() = default;

std::string DesktopVault::name() const { return m_keyring ? "secret-service" : "passphrase"; }

crdt::Result<std::string> DesktopVault::wrap(std::string_view user, std::string_view passphrase,
                                             const sync::SecretKey& dataKey) {
  std::lock_guard lock(m_mu);
  auto inner = m_passphrase.wrap(user, passphrase, dataKey);
  if (!inner.isOk() || !m_keyring) return inner;
  const std::string keyId = sync::randomBytes(kKeyIdBytes);
  const std::string keyIdHex = sync::toHex(keyId);
  sync::SecretKey outer = sync::SecretKey::random();
  const std::string outerHex =
      sync::toHex(std::string_view(reinterpret_cast<const char*>(outer.data()), sync::SecretKey::kBytes));
  if (!m_keyring->store(keyIdHex, "Charta tablet key of " + std::string(user), outerHex).isOk()) {
    return inner;  // the keyring refused (locked, full): the passphrase layer alone
  }
  std::string blob;
  blob.push_back(static_cast<char>(kKeyringMagic));
  blob.push_back(static_cast<char>(kKeyringFormat));
  blob += keyId;
  blob += sync::seal(outer, inner.value(), associatedData(user, keyIdHex));
  return blob;
}

crdt::Result<sync::SecretKey> DesktopVault::unwrap(std::string_view user, std::string_view passphrase,
                                                   std::string_view blob) {
  std::lock_guard lock(m_mu);
  if (blob.empty() || static_cast<std::uint8_t>(blob[0]) != kKeyringMagic) {
    return m_passphrase.unwrap(user, passphrase, blob);
  }
  if (blob.size() < kHeaderBytes) return crdt::Status::corruption("vault: keyring blob too short");
  if (static_cast<std::uint8_t>(blob[1]) != kKeyringFormat) {
    return crdt::Status::unsupportedVersion("vault: keyring blob of format " +
                                            std::to_string(static_cast<std::uint8_t>(blob[1])));
  }
  if (!m_keyring) {
    return crdt::Status::rejected(
        "this user's key is also kept in the desktop keyring, which this session does not offer: unlock from the "
        "desktop session where the tablet was set up");
  }
  const std::string keyIdHex = sync::toHex(blob.substr(2, kKeyIdBytes));
  auto found = m_keyring->lookup(keyIdHex);
  if (!found.isOk()) return found.status();
  if (!found.value()) {
    return crdt::Status::rejected(
        "the desktop keyring no longer holds this user's key: another user of the tablet can add this user again");
  }
  auto outer = sync::SecretKey::fromBytes(fromHex(*found.value()));
  if (!outer.isOk()) return crdt::Status::corruption("vault: the keyring's key is damaged");
  auto inner = sync::open(outer.value(), blob.substr(kHeaderBytes), associatedData(user, keyIdHex));
  if (!inner.isOk()) {
    return crdt::Status::rejected("wrong passphrase");  // another user's blob, or a damaged one
  }
  return m_passphrase.unwrap(user, passphrase, inner.value());
}

crdt::Status DesktopVault::forget(std::string_view blob) {
  std::lock_guard lock(m_mu);
  if (blob.size() < kHeaderBytes || static_cast<std::uint8_t>(blob[0]) != kKeyringMagic || !m_keyring) {
    return crdt::Status::ok();
  }
  return m_keyring->remove(sync::toHex(blob.substr(2, kKeyIdBytes)));
}

}  // namespace charta::platform
