// DesktopVault: the Linux desktop's key vault, chosen at run time.
//
// When the session offers the Secret Service (a session bus with GNOME
// Keyring, KWallet, ...), a user's data key is wrapped in two layers: the
// PassphraseVault blob (Argon2id from the passphrase, the personal factor)
// sealed again under a random key that the keyring keeps, so a copied
// replica file cannot be attacked away from the desktop session that holds
// the keyring. Without a session bus (headless, charta-sim, CI) it is the
// PassphraseVault alone; if the keyring refuses the new key, the user is
// wrapped with the passphrase alone rather than not at all.
//
// Blob: a PassphraseVault blob (first byte 1), or
//   offset  size
//        0     1  'S' (0x53): sealed by a keyring key
//        1     1  format 1
//        2    16  key id (the keyring item's "key-id" attribute, hex)
//       18     *  the PassphraseVault blob sealed with the keyring key
//                 (XChaCha20-Poly1305; associated data names the user and
//                 the key id)
// unwrap() reads either kind, so users wrapped before the keyring was there
// (or on another machine) still unlock. A keyring blob in a session without
// the keyring, or whose item was deleted, is refused in plain words.
//
// Thread-safety: calls are serialised by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "charta/platform/passphrase_vault.h"

namespace charta::platform {

class SecretService;

class DesktopVault final : public sync::KeyVault {
 public:
  static constexpr std::uint8_t kKeyringMagic = 0x53;  // 'S'
  static constexpr std::uint8_t kKeyringFormat = 1;

  // The vault for this process's session: with the Secret Service when one
  // answers on the session bus, else passphrase-only.
  static std::unique_ptr<DesktopVault> forThisSession(PassphraseVault::Strength strength);
  // With the given keyring (nullptr: none). For tests and forThisSession.
  DesktopVault(PassphraseVault::Strength strength, std::unique_ptr<SecretService> keyring);
  ~DesktopVault() override;

  bool hasKeyring() const { return m_keyring != nullptr; }

  // "secret-service" with a keyring, else "passphrase".
  std::string name() const override;
  crdt::Result<std::string> wrap(std::string_view user, std::string_view passphrase,
                                 const sync::SecretKey& dataKey) override;
  crdt::Result<sync::SecretKey> unwrap(std::string_view user, std::string_view passphrase,
                                       std::string_view blob) override;

  // Deletes the keyring item of a blob (a user removed from the tablet, a
  // wiped replica). No error for a passphrase blob.
  crdt::Status forget(std::string_view blob);

 private:
  std::mutex m_mu;
  PassphraseVault m_passphrase;
  std::unique_ptr<SecretService> m_keyring;
};

}  // namespace charta::platform
