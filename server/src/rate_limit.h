#pragma once

// Failed-login throttling per key (an account, a client address): after
// `freeFailures` failures in a row, each further attempt must wait a delay that
// doubles with every failure (1 s, 2 s, 4 s ... capped at 15 min). A success
// clears the key. Kept in memory: a restart forgives, which is acceptable for
// delays of minutes.
//
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace charta::server {

class LoginThrottle {
 public:
  explicit LoginThrottle(std::uint64_t freeFailures) : m_free(freeFailures) {}

  // Milliseconds the key must still wait before its next attempt (0: go).
  std::int64_t waitMs(const std::string& key, std::int64_t nowMs);
  void failure(const std::string& key, std::int64_t nowMs);
  void success(const std::string& key);

 private:
  struct State {
    std::uint64_t failures = 0;
    std::int64_t lastFailureMs = 0;
  };
  std::int64_t delayFor(std::uint64_t failures) const;

  std::uint64_t m_free;
  std::mutex m_mu;
  std::unordered_map<std::string, State> m_keys;
};

}  // namespace charta::server
