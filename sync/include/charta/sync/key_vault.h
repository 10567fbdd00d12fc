// KeyVault: how the tablet's device data key is protected for each user.
//
// The replica's data key (which wraps every per-patient key) is never stored
// in the clear. For each user enrolled on the tablet the vault wraps it into
// an opaque blob that the replica stores; unlocking gives the user's
// passphrase back to the vault, which unwraps the key. The blob is
// self-describing (format version, the Argon2id parameters, the salt), so
// parameters can change without locking anyone out.
//
// platforms/ implements the vault per OS: passphrase-only on the Linux
// desktop (charta::platform::PassphraseVault); a platform key store
// (Android Keystore, iOS Keychain, the Secret Service) would add a second,
// hardware- or session-bound layer to the same blob.
//
// Thread-safety: implementations are thread-safe for concurrent calls.
#pragma once

#include <string>
#include <string_view>

#include "charta/crdt/status.h"
#include "charta/sync/crypto.h"

namespace charta::sync {

class KeyVault {
 public:
  virtual ~KeyVault() = default;

  // A short name for logs and the replica's metadata ("passphrase").
  virtual std::string name() const = 0;

  // Wraps dataKey for this user under their passphrase. The blob binds the
  // user id: it does not unwrap for another user. kInvalidArgument for an
  // empty user or a passphrase shorter than the vault's minimum.
  virtual Result<std::string> wrap(std::string_view user, std::string_view passphrase,
                                   const SecretKey& dataKey) = 0;

  // kRejected "wrong passphrase" when the passphrase (or the user) does not
  // match; kCorruption when the blob is damaged; kUnsupportedVersion for a
  // blob from a newer format; kInvalidArgument for an empty user.
  virtual Result<SecretKey> unwrap(std::string_view user, std::string_view passphrase,
                                   std::string_view blob) = 0;
};

}  // namespace charta::sync
