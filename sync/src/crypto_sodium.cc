// The libsodium adapter behind crypto.h: the only file of charta_sync that
// includes <sodium.h>.
//
// Secret material lives in sodium_malloc'd memory (guard pages, mlock where
// the OS allows it; sodium_free zeroes before unmapping). Keys that come out
// of a computation (unwrapKey, deriveKey) are written straight into such
// memory, never into a temporary on the stack or in a std::string.
//
// A violated REQUIRES (an empty key given to seal, a zero bound...) is a
// programming error, not an input error: it aborts with a message instead of
// producing bytes that look valid.
#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <cstdint>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "charta/sync/crypto.h"

namespace charta::sync {

namespace {

static_assert(SecretKey::kBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kSealOverheadBytes ==
              crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(SecretKey::kBytes == crypto_generichash_KEYBYTES);
static_assert(crypto_generichash_BYTES == 32);

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "charta::sync crypto: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

void require(bool condition, const char* what) {
  if (!condition) fail(what);
}

// For the functions that cannot report an error: without a working libsodium
// (no entropy source) no key or nonce can be made safely.
void requireSodium() {
  if (!initCrypto().isOk()) fail("libsodium could not be initialised");
}

const unsigned char* bytesOf(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

unsigned char* bytesOf(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// A key of zeros in fresh guarded memory, for a computation to write into
// (kIoError when the memory is not there).
Result<SecretKey> allocateKey() {
  static constexpr char kZeros[SecretKey::kBytes] = {};
  return SecretKey::fromBytes(std::string_view(kZeros, SecretKey::kBytes));
}

// The key's bytes for writing. Only used on a key this file just allocated
// (the memory is never const; the header hands out a const view only).
unsigned char* mutableBytes(SecretKey& key) { return const_cast<unsigned char*>(key.data()); }

// Decrypts nonce || ciphertext || tag into out (sealed.size() - overhead
// bytes). false when the sizes or the tag do not match.
bool openInto(const SecretKey& key, std::string_view sealed, std::string_view associatedData, unsigned char* out) {
  if (sealed.size() < kSealOverheadBytes) return false;
  const unsigned char* nonce = bytesOf(sealed);
  const unsigned char* cipher = nonce + kNonceBytes;
  const auto cipherBytes = static_cast<unsigned long long>(sealed.size() - kNonceBytes);
  unsigned long long written = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      out, &written, nullptr, cipher, cipherBytes, bytesOf(associatedData), associatedData.size(), nonce, key.data());
  return rc == 0 && written == sealed.size() - kSealOverheadBytes;
}

Status authenticationFailed() {
  return Status::corruption("authentication failed (wrong key, other associated data, or damaged bytes)");
}

}  // namespace

Status initCrypto() {
  // sodium_init() is itself thread-safe and idempotent (0 the first time, 1
  // afterwards); the static only saves the lock on later calls.
  static const int rc = sodium_init();
  if (rc < 0) return Status::ioError("libsodium could not be initialised");
  return Status::ok();
}

// --- SecretKey ---------------------------------------------------------------

SecretKey::~SecretKey() { wipe(); }

SecretKey::SecretKey(SecretKey&& other) noexcept : m_bytes(other.m_bytes) { other.m_bytes = nullptr; }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    wipe();
    m_bytes = other.m_bytes;
    other.m_bytes = nullptr;
  }
  return *this;
}

SecretKey SecretKey::random() {
  requireSodium();
  SecretKey key;
  key.m_bytes = static_cast<unsigned char*>(sodium_malloc(kBytes));
  require(key.m_bytes != nullptr, "out of memory for a secret key");
  crypto_aead_xchacha20poly1305_ietf_keygen(key.m_bytes);
  return key;
}

Result<SecretKey> SecretKey::fromBytes(std::string_view bytes) {
  if (bytes.size() != kBytes) {
    return Status::invalidArgument("a secret key has " + std::to_string(kBytes) + " bytes, not " +
                                   std::to_string(bytes.size()));
  }
  if (Status s = initCrypto(); !s.isOk()) return s;
  SecretKey key;
  key.m_bytes = static_cast<unsigned char*>(sodium_malloc(kBytes));
  if (key.m_bytes == nullptr) return Status::ioError("out of memory for a secret key");
  std::memcpy(key.m_bytes, bytes.data(), kBytes);
  return key;
}

void SecretKey::wipe() {
  if (m_bytes == nullptr) return;
  sodium_free(m_bytes);  // zeroes, then unmaps
  m_bytes = nullptr;
}

SecretKey SecretKey::clone() const {
  SecretKey copy;
  if (empty()) return copy;
  copy.m_bytes = static_cast<unsigned char*>(sodium_malloc(kBytes));
  require(copy.m_bytes != nullptr, "out of memory for a secret key");
  std::memcpy(copy.m_bytes, m_bytes, kBytes);
  return copy;
}

// --- seal / open -------------------------------------------------------------

namespace {

// Random nonces from a per-thread buffer filled 4 KiB at a time: one system
// call per 170 nonces instead of one per seal (measured: that call was 40% of
// sealing a small row). The buffer is refilled after a fork, so a child never
// hands out the parent's nonces. Nonces are public; nothing here is secret.
//
// The generation is bumped in the child of every fork (pthread_atfork).
// Asking getpid() on every seal did the same with a system call per row,
// which cost about as much as the encryption itself.
std::atomic<std::uint64_t> g_forkGeneration{1};
void onForkChild() { g_forkGeneration.fetch_add(1, std::memory_order_relaxed); }

void randomNonce(unsigned char* out, std::size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    std::size_t pos = sizeof bytes;
    std::uint64_t generation = 0;  // g_forkGeneration when filled
  };
  // Registered once; without it (pthread_atfork failing for lack of memory)
  // the pool is refilled for every nonce, never reused across a fork.
  static const bool forkTracked = ::pthread_atfork(nullptr, nullptr, &onForkChild) == 0;
  thread_local Pool pool;
  const std::uint64_t generation = forkTracked ? g_forkGeneration.load(std::memory_order_relaxed) : 0;
  if (generation == 0 || pool.generation != generation || pool.pos + n > sizeof pool.bytes) {
    randombytes_buf(pool.bytes, sizeof pool.bytes);
    pool.pos = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes + pool.pos, n);
  sodium_memzero(pool.bytes + pool.pos, n);  // each nonce is handed out once
  pool.pos += n;
}

}  // namespace

std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view associatedData) {
  require(!key.empty(), "seal() with an empty key");
  requireSodium();
  std::string out(plaintext.size() + kSealOverheadBytes, '\0');
  unsigned char* nonce = bytesOf(out);
  randomNonce(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &written, bytesOf(plaintext), plaintext.size(),
                                             bytesOf(associatedData), associatedData.size(), nullptr, nonce,
                                             key.data());
  require(written == plaintext.size() + kTagBytes, "unexpected ciphertext size");
  return out;
}

Result<std::string> open(const SecretKey& key, std::string_view sealed, std::string_view associatedData) {
  if (key.empty()) return Status::invalidArgument("open() with an empty key");
  if (Status s = initCrypto(); !s.isOk()) return s;
  if (sealed.size() < kSealOverheadBytes) {
    return Status::corruption("authentication failed (sealed data of " + std::to_string(sealed.size()) +
                              " bytes is shorter than the " + std::to_string(kSealOverheadBytes) +
                              " bytes of nonce and tag)");
  }
  std::string plaintext(sealed.size() - kSealOverheadBytes, '\0');
  if (!openInto(key, sealed, associatedData, bytesOf(plaintext))) return authenticationFailed();
  return plaintext;
}

std::string wrapKey(const SecretKey& wrappingKey, const SecretKey& key, std::string_view associatedData) {
  require(!key.empty(), "wrapKey() of an empty key");
  const std::string_view raw(reinterpret_cast<const char*>(key.data()), SecretKey::kBytes);
  return seal(wrappingKey, raw, associatedData);
}

Result<SecretKey> unwrapKey(const SecretKey& wrappingKey, std::string_view wrapped, std::string_view associatedData) {
  if (wrappingKey.empty()) return Status::invalidArgument("unwrapKey() with an empty wrapping key");
  if (Status s = initCrypto(); !s.isOk()) return s;
  if (wrapped.size() != SecretKey::kBytes + kSealOverheadBytes) {
    return Status::corruption("authentication failed (a wrapped key has " +
                              std::to_string(SecretKey::kBytes + kSealOverheadBytes) + " bytes, not " +
                              std::to_string(wrapped.size()) + ")");
  }
  // Decrypt straight into guarded memory.
  Result<SecretKey> key = allocateKey();
  if (!key.isOk()) return key;
  if (!openInto(wrappingKey, wrapped, associatedData, mutableBytes(key.value()))) return authenticationFailed();
  return key;
}

// --- Argon2id ----------------------------------------------------------------

PwhashParams PwhashParams::moderate() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE,
          randomBytes(crypto_pwhash_argon2id_SALTBYTES)};
}

PwhashParams PwhashParams::tablet() {
  return {6, std::uint64_t{128} << 20, randomBytes(crypto_pwhash_argon2id_SALTBYTES)};
}

PwhashParams PwhashParams::interactive() {
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
          randomBytes(crypto_pwhash_argon2id_SALTBYTES)};
}

PwhashParams PwhashParams::minimumForTests() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN,
          randomBytes(crypto_pwhash_argon2id_SALTBYTES)};
}

Result<SecretKey> deriveKey(std::string_view passphrase, const PwhashParams& params) {
  static_assert(crypto_pwhash_argon2id_SALTBYTES == crypto_pwhash_SALTBYTES);
  if (passphrase.empty()) return Status::invalidArgument("empty passphrase");
  if (passphrase.size() > crypto_pwhash_argon2id_PASSWD_MAX) return Status::invalidArgument("passphrase too long");
  if (params.salt.size() != crypto_pwhash_argon2id_SALTBYTES) {
    return Status::invalidArgument("Argon2id salt has " + std::to_string(params.salt.size()) + " bytes, expected " +
                                   std::to_string(crypto_pwhash_argon2id_SALTBYTES));
  }
  const std::uint64_t opsMin = crypto_pwhash_argon2id_OPSLIMIT_MIN;
  const std::uint64_t opsMax = crypto_pwhash_argon2id_OPSLIMIT_MAX;
  if (params.opsLimit < opsMin || params.opsLimit > opsMax) {
    return Status::invalidArgument("Argon2id opslimit " + std::to_string(params.opsLimit) + " outside [" +
                                   std::to_string(opsMin) + ", " + std::to_string(opsMax) + "]");
  }
  const std::uint64_t memMin = crypto_pwhash_argon2id_MEMLIMIT_MIN;
  const std::uint64_t memMax = crypto_pwhash_argon2id_MEMLIMIT_MAX;
  if (params.memLimitBytes < memMin || params.memLimitBytes > memMax ||
      params.memLimitBytes > std::numeric_limits<std::size_t>::max()) {
    return Status::invalidArgument("Argon2id memlimit " + std::to_string(params.memLimitBytes) + " outside [" +
                                   std::to_string(memMin) + ", " + std::to_string(memMax) + "]");
  }
  // Argon2id counts memory in KiB and libsodium rounds the bytes down: only a
  // whole number of KiB keeps stored parameters canonical (one value, one key).
  if (params.memLimitBytes % 1024 != 0) {
    return Status::invalidArgument("Argon2id memlimit " + std::to_string(params.memLimitBytes) +
                                   " is not a whole number of KiB");
  }
  if (Status s = initCrypto(); !s.isOk()) return s;

  Result<SecretKey> key = allocateKey();
  if (!key.isOk()) return key;
  const int rc = crypto_pwhash(mutableBytes(key.value()), SecretKey::kBytes, passphrase.data(), passphrase.size(),
                               bytesOf(params.salt), static_cast<unsigned long long>(params.opsLimit),
                               static_cast<std::size_t>(params.memLimitBytes), crypto_pwhash_ALG_ARGON2ID13);
  if (rc != 0) {
    return Status::ioError("out of memory while deriving a key (Argon2id needs " +
                           std::to_string(params.memLimitBytes / (1024 * 1024)) + " MiB)");
  }
  return key;
}

// --- Random, hashing, helpers ------------------------------------------------

std::string randomBytes(std::size_t n) {
  requireSodium();
  std::string out(n, '\0');
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

std::uint64_t randomBelow(std::uint64_t bound) {
  require(bound > 0, "randomBelow(0)");
  requireSodium();
  if (bound <= std::numeric_limits<std::uint32_t>::max()) {
    return randombytes_uniform(static_cast<std::uint32_t>(bound));
  }
  // Rejection sampling: the values below 2^64 mod bound would make the
  // remainders below it more likely; draw again when one comes up.
  const std::uint64_t threshold = (std::uint64_t{0} - bound) % bound;
  std::uint64_t r = 0;
  do {
    randombytes_buf(&r, sizeof r);
  } while (r < threshold);
  return r % bound;
}

std::string genericHash(std::string_view data, std::size_t outBytes) {
  require(outBytes >= crypto_generichash_BYTES_MIN && outBytes <= crypto_generichash_BYTES_MAX,
          "genericHash() output size outside 16..64");
  requireSodium();
  std::string out(outBytes, '\0');
  crypto_generichash(bytesOf(out), out.size(), bytesOf(data), data.size(), nullptr, 0);
  return out;
}

std::string keyedHash(const SecretKey& key, std::string_view data) {
  require(!key.empty(), "keyedHash() with an empty key");
  requireSodium();
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(bytesOf(out), out.size(), bytesOf(data), data.size(), key.data(), SecretKey::kBytes);
  return out;
}

std::string toHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytesOf(bytes), bytes.size());
  out.pop_back();
  return out;
}

// --- Streams -----------------------------------------------------------------

static_assert(kStreamHeaderBytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kStreamOverheadBytes == crypto_secretstream_xchacha20poly1305_ABYTES);
static_assert(SecretKey::kBytes == crypto_secretstream_xchacha20poly1305_KEYBYTES);

struct StreamSealer::State {
  crypto_secretstream_xchacha20poly1305_state st;
  bool finished = false;
};

struct StreamOpener::State {
  crypto_secretstream_xchacha20poly1305_state st;
  bool finished = false;
};

namespace {
template <typename S>
void freeState(S*& state) {
  if (state == nullptr) return;
  sodium_memzero(state, sizeof *state);
  delete state;
  state = nullptr;
}
}  // namespace

StreamSealer::StreamSealer() = default;
StreamSealer::~StreamSealer() { freeState(m_state); }
StreamSealer::StreamSealer(StreamSealer&& other) noexcept : m_state(other.m_state) { other.m_state = nullptr; }
StreamSealer& StreamSealer::operator=(StreamSealer&& other) noexcept {
  if (this != &other) {
    freeState(m_state);
    m_state = other.m_state;
    other.m_state = nullptr;
  }
  return *this;
}

StreamSealer StreamSealer::start(const SecretKey& key, std::string* header) {
  require(!key.empty(), "StreamSealer::start() with an empty key");
  require(header != nullptr, "StreamSealer::start() without a header");
  requireSodium();
  StreamSealer sealer;
  sealer.m_state = new State();
  header->assign(kStreamHeaderBytes, '\0');
  crypto_secretstream_xchacha20poly1305_init_push(&sealer.m_state->st, bytesOf(*header), key.data());
  return sealer;
}

std::string StreamSealer::push(std::string_view message, std::string_view associatedData, bool final) {
  require(m_state != nullptr && !m_state->finished, "StreamSealer::push() on a stream not started or finished");
  std::string out(message.size() + kStreamOverheadBytes, '\0');
  unsigned long long written = 0;
  const unsigned char tag =
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push(&m_state->st, bytesOf(out), &written, bytesOf(message), message.size(),
                                             bytesOf(associatedData), associatedData.size(), tag);
  require(written == out.size(), "unexpected stream message size");
  m_state->finished = final;
  return out;
}

StreamOpener::StreamOpener() = default;
StreamOpener::~StreamOpener() { freeState(m_state); }
StreamOpener::StreamOpener(StreamOpener&& other) noexcept : m_state(other.m_state) { other.m_state = nullptr; }
StreamOpener& StreamOpener::operator=(StreamOpener&& other) noexcept {
  if (this != &other) {
    freeState(m_state);
    m_state = other.m_state;
    other.m_state = nullptr;
  }
  return *this;
}

Result<StreamOpener> StreamOpener::start(const SecretKey& key, std::string_view header) {
  if (key.empty()) return Status::invalidArgument("StreamOpener::start() with an empty key");
  if (Status s = initCrypto(); !s.isOk()) return s;
  if (header.size() != kStreamHeaderBytes) {
    return Status::corruption("a stream header has " + std::to_string(kStreamHeaderBytes) + " bytes, not " +
                              std::to_string(header.size()));
  }
  StreamOpener opener;
  opener.m_state = new State();
  if (crypto_secretstream_xchacha20poly1305_init_pull(&opener.m_state->st, bytesOf(header), key.data()) != 0) {
    return Status::corruption("the stream header is not valid");
  }
  return opener;
}

Result<std::string> StreamOpener::pull(std::string_view sealed, std::string_view associatedData, bool* final) {
  if (m_state == nullptr) return Status::invalidArgument("StreamOpener::pull() on a stream not started");
  if (m_state->finished) return Status::corruption("a message after the end of the stream");
  if (sealed.size() < kStreamOverheadBytes) return authenticationFailed();
  std::string out(sealed.size() - kStreamOverheadBytes, '\0');
  unsigned long long written = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&m_state->st, bytesOf(out), &written, &tag, bytesOf(sealed),
                                                 sealed.size(), bytesOf(associatedData), associatedData.size()) != 0 ||
      written != out.size()) {
    sodium_memzero(out.data(), out.size());
    return authenticationFailed();
  }
  m_state->finished = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  if (final != nullptr) *final = m_state->finished;
  return out;
}

struct Sha256::State {
  crypto_hash_sha256_state st;
};

Sha256::Sha256() : m_state(new State()) {
  requireSodium();
  crypto_hash_sha256_init(&m_state->st);
}

Sha256::~Sha256() {
  sodium_memzero(m_state, sizeof *m_state);
  delete m_state;
}

void Sha256::update(std::string_view data) { crypto_hash_sha256_update(&m_state->st, bytesOf(data), data.size()); }

std::string Sha256::finishHex() {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256_final(&m_state->st, bytesOf(digest));
  crypto_hash_sha256_init(&m_state->st);
  return toHex(digest);
}

std::string sha256Hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finishHex();
}

void wipeString(std::string& s) {
  // Also zero the spare capacity, which may hold an older, longer value.
  const std::size_t size = s.size();
  s.resize(s.capacity());
  sodium_memzero(s.data(), s.size());
  s.resize(size);
}

}  // namespace charta::sync
