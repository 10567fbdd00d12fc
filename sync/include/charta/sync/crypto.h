// Cryptography for the tablet's replica: the only header of charta_sync that
// names what libsodium provides (crypto_sodium.cc is the only file that
// includes <sodium.h>).
//
// - SecretKey: 32 bytes in guarded memory (sodium_malloc, mlock where the OS
//   allows), zeroed when wiped, moved from or destroyed. Never copied.
// - seal/open: XChaCha20-Poly1305 (IETF), a fresh random 24-byte nonce per
//   seal. The sealed bytes are nonce || ciphertext || 16-byte tag. The
//   associated data is authenticated, not stored: open() with other associated
//   data fails, so a row moved to another table, row or patient is refused.
// - wrapKey/unwrapKey: seal/open of a key under another key.
// - deriveKey: Argon2id (crypto_pwhash) with the parameters stored next to
//   what it protects, so they can be raised later without locking anyone out.
//
// Failures are values: a tampered or mis-bound sealed blob is kCorruption
// ("authentication failed"), never an exception or a crash. A violated
// REQUIRES (an empty key given to seal, randomBelow(0)) is a programming
// error and aborts with a message rather than return bytes that look valid.
//
// Each SecretKey holds its own guarded allocation (a few pages and memory
// mappings): keep the keys in use, not one per patient for a whole replica.
// When that memory cannot be had, fromBytes, unwrapKey and deriveKey return
// kIoError; random() and clone(), which cannot report it, abort.
//
// Thread-safety: the functions are thread-safe; a SecretKey is a value with
// one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "charta/crdt/status.h"

namespace charta::sync {

using crdt::Result;
using crdt::Status;

// Initialises libsodium once (idempotent, thread-safe). Every function below
// calls it; returns kIoError when the library cannot start.
Status initCrypto();

class SecretKey {
 public:
  static constexpr std::size_t kBytes = 32;

  SecretKey() = default;  // empty
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  // A fresh random key.
  static SecretKey random();
  // Copies exactly kBytes bytes (kInvalidArgument otherwise).
  static Result<SecretKey> fromBytes(std::string_view bytes);

  bool empty() const { return m_bytes == nullptr; }
  // REQUIRES: !empty(). kBytes bytes.
  const unsigned char* data() const { return m_bytes; }
  // Zeroes and frees the key; empty() afterwards.
  void wipe();
  // A copy in new guarded memory (for handing a key to a second owner).
  SecretKey clone() const;

 private:
  unsigned char* m_bytes = nullptr;
};

inline constexpr std::size_t kSealOverheadBytes = 24 + 16;

// REQUIRES: !key.empty().
std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view associatedData);
// kCorruption when the bytes are too short, were changed, or were sealed
// under another key or other associated data.
Result<std::string> open(const SecretKey& key, std::string_view sealed, std::string_view associatedData);

std::string wrapKey(const SecretKey& wrappingKey, const SecretKey& key, std::string_view associatedData);
Result<SecretKey> unwrapKey(const SecretKey& wrappingKey, std::string_view wrapped, std::string_view associatedData);

// Argon2id parameters, stored with whatever they protect.
struct PwhashParams {
  std::uint64_t opsLimit = 0;
  std::uint64_t memLimitBytes = 0;
  std::string salt;  // 16 bytes

  // A new random salt with libsodium's MODERATE limits (256 MiB, about 0.5 s
  // on a 2-core machine): the default for a user's passphrase.
  static PwhashParams moderate();
  // A new random salt with 128 MiB and 6 passes: about the time of MODERATE
  // with half its memory (the same time-memory product), for tablets, whose
  // apps the system stops when they use a few hundred MiB.
  static PwhashParams tablet();
  // A new random salt with the INTERACTIVE limits (64 MiB): for tests.
  static PwhashParams interactive();
  // A new random salt with libsodium's minimum limits: for tests that derive
  // many keys; never for real passphrases.
  static PwhashParams minimumForTests();
};

// kInvalidArgument for an empty passphrase, a salt of the wrong size,
// limits outside libsodium's range or a memory limit that is not a whole
// number of KiB (Argon2id counts KiB; any other value would derive the same
// key as its round-down); kIoError when the memory is not there.
Result<SecretKey> deriveKey(std::string_view passphrase, const PwhashParams& params);

// n random bytes.
std::string randomBytes(std::size_t n);
// A uniformly random integer in [0, bound). REQUIRES: bound > 0.
std::uint64_t randomBelow(std::uint64_t bound);
// BLAKE2b of the data with outBytes (16..64) of output.
std::string genericHash(std::string_view data, std::size_t outBytes = 32);
// Keyed BLAKE2b-256 (a MAC / key derivation from a key and a label).
std::string keyedHash(const SecretKey& key, std::string_view data);
// Lower-case hex.
std::string toHex(std::string_view bytes);

// --- Streams: crypto_secretstream_xchacha20poly1305 (attachment blobs) ---
// One stream per blob: a header (random, stored before the messages), then
// one message per chunk, each authenticated with its associated data and
// chained to the ones before it (a message dropped, reordered or repeated
// does not open). The last message carries the FINAL tag. A stream's state
// cannot be re-created from its header: a writer that stopped part-way
// starts a new stream (see attachment_store.cc).
inline constexpr std::size_t kStreamHeaderBytes = 24;
inline constexpr std::size_t kStreamOverheadBytes = 17;  // per message

class StreamSealer {
 public:
  StreamSealer();
  ~StreamSealer();  // zeroes the state
  StreamSealer(StreamSealer&& other) noexcept;
  StreamSealer& operator=(StreamSealer&& other) noexcept;
  StreamSealer(const StreamSealer&) = delete;
  StreamSealer& operator=(const StreamSealer&) = delete;

  // A new stream under key (REQUIRES: !key.empty()); *header receives the
  // kStreamHeaderBytes to store before the messages.
  static StreamSealer start(const SecretKey& key, std::string* header);
  bool started() const { return m_state != nullptr; }
  // message.size() + kStreamOverheadBytes bytes. REQUIRES: started(), and no
  // final message pushed yet.
  std::string push(std::string_view message, std::string_view associatedData, bool final);

 private:
  struct State;
  State* m_state = nullptr;
};

class StreamOpener {
 public:
  StreamOpener();
  ~StreamOpener();
  StreamOpener(StreamOpener&& other) noexcept;
  StreamOpener& operator=(StreamOpener&& other) noexcept;
  StreamOpener(const StreamOpener&) = delete;
  StreamOpener& operator=(const StreamOpener&) = delete;

  // kCorruption for a header of the wrong size.
  static Result<StreamOpener> start(const SecretKey& key, std::string_view header);
  // The next message's plaintext; *final says whether it carried the FINAL
  // tag. kCorruption when it does not open (damaged, out of order, another
  // key or other associated data).
  Result<std::string> pull(std::string_view sealed, std::string_view associatedData, bool* final);

 private:
  struct State;
  State* m_state = nullptr;
};

// SHA-256, incremental: the content address of an attachment.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // Lower-case hex of the digest; the object starts over afterwards.
  std::string finishHex();

 private:
  struct State;
  State* m_state;
};

// Lower-case hex SHA-256 of data.
std::string sha256Hex(std::string_view data);
// Overwrites the string's bytes with zeros (before it is freed).
void wipeString(std::string& s);

}  // namespace charta::sync
