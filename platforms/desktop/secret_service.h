// The Secret Service of the desktop session (GNOME Keyring, KWallet, ...)
// through libsecret: one adapter, so nothing else includes glib. Items are
// Charta vault keys, found by their key id.
//
// Thread-safety: libsecret's synchronous calls; one call at a time per
// object (the vault serialises them).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "charta/crdt/status.h"

namespace charta::platform {

class SecretService {
 public:
  virtual ~SecretService() = default;

  // The session's Secret Service, or nullptr when this process has no
  // session bus or nothing on it answers for org.freedesktop.secrets.
  static std::unique_ptr<SecretService> connect();

  // Stores a secret (text) under the key id in the default collection.
  virtual crdt::Status store(const std::string& keyId, const std::string& label, const std::string& secret) = 0;
  // The secret, nullopt when no item has this key id.
  virtual crdt::Result<std::optional<std::string>> lookup(const std::string& keyId) = 0;
  // Deletes the item (no error when there is none).
  virtual crdt::Status remove(const std::string& keyId) = 0;
};

}  // namespace charta::platform
