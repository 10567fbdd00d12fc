#pragma once

// The server's cryptography, all from libsodium (the one file that includes it
// is crypto.cc): random tokens, Argon2id password hashes, BLAKE2b digests for
// credential lookup and the audit chain.
//
// Thread-safety: every function is safe to call from any thread once
// initCrypto() has returned ok.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "charta/crdt/status.h"

namespace charta::server {

using crdt::Result;
using crdt::Status;

// Initialises libsodium; kIoError when it cannot (no entropy source).
Status initCrypto();

// `bytes` random bytes as unpadded base64url (URL and header safe).
std::string randomToken(std::size_t bytes = 32);
// A random code a person can type: `groups` groups of 4 characters from an
// alphabet without look-alikes (no 0/O, 1/I/L), joined with '-'.
std::string randomCode(std::size_t groups = 4);
// A random non-zero 63-bit integer (replica ids).
std::uint64_t randomId63();

// Argon2id (crypto_pwhash_str) at libsodium's INTERACTIVE limits: the encoded
// hash string carries its own salt and parameters.
Result<std::string> hashPassword(std::string_view password);
bool verifyPassword(const std::string& encodedHash, std::string_view password);

// BLAKE2b-256 of `data` (raw 32 bytes). Tokens and codes are stored only as
// this digest: they are high-entropy, so a fast hash is enough.
std::string digest(std::string_view data);
// BLAKE2b-256 over the concatenation of length-prefixed parts, so part
// boundaries are unambiguous (the audit chain).
std::string digestParts(std::initializer_list<std::string_view> parts);

// SHA-256 (libsodium crypto_hash_sha256): attachment contents and their
// chunks are addressed by it. Raw 32 bytes; toHex gives the 64 hex digits.
std::string sha256(std::string_view data);
// SHA-256 over data given in pieces (an attachment's chunks, in order).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // The raw 32-byte digest. Call once.
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

// Constant-time equality of two byte strings.
bool equalConstantTime(std::string_view a, std::string_view b);

std::string toHex(std::string_view bytes);
std::string base64Encode(std::string_view bytes);
// Standard base64 (padding required; ASCII whitespace between characters is
// ignored, as in FHIR attachments); nullopt when it is not base64.
std::optional<std::string> base64Decode(std::string_view text);

// RFC 4648 base32 without padding (authenticator apps' secrets).
std::string base32Encode(std::string_view bytes);
// The RFC 6238 time-based code of `secret` for the 30-second step holding
// `unixSeconds`: 6 digits, HMAC-SHA-256 (libsodium has no SHA-1 HMAC; the
// otpauth URI says algorithm=SHA256).
std::string totpCode(std::string_view secret, std::int64_t unixSeconds);
// True when `code` is the code of the current step or of the one before or
// after it (clocks drift; codes are typed).
bool verifyTotp(std::string_view secret, std::string_view code, std::int64_t unixSeconds);

}  // namespace charta::server
