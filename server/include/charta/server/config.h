#pragma once

// The server's settings: one `key = value` file (--config FILE), each key also
// a command-line option (--key value or --key=value) that overrides the file.
// Unknown keys, bad values and missing files are errors, never ignored.

#include <cstdint>
#include <string>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::server {

struct Config {
  std::string listen = "127.0.0.1:8443";  // HOST:PORT
  std::string data = "charta-data";       // folder: SQLite store, backups
  std::string postgres;                   // libpq connection string: use PostgreSQL
  std::string tlsCert;                    // PEM chain; with tls_key: HTTPS
  std::string tlsKey;
  std::string logFile;                    // empty: JSON lines on stderr
  std::string logLevel = "info";
  std::uint64_t maxBodyBytes = 32u << 20;
  std::uint64_t sessionTtlSeconds = 3600;
  std::uint64_t enrolmentCodeTtlSeconds = 24 * 3600;
  std::uint64_t futureClockBoundSeconds = 300;  // ops stamped later than now + this are flagged
  std::uint64_t pullPageOps = 2000;
  std::uint64_t pushMaxOps = 10000;
  std::uint64_t loginMaxFailures = 5;        // then growing delays
  std::uint64_t staleDeviceSeconds = 7 * 24 * 3600;
  std::uint64_t breakGlassTtlSeconds = 12 * 3600;  // how long a tablet keeps a break-glass copy
  std::uint64_t maxAttachmentBytes = 100u << 20;   // largest attachment (photo, document) accepted
  int dbPool = 8;
  bool demo = false;  // create a demo clinic with users and a code when the store is empty

  std::string host() const;
  std::uint16_t port() const;
};

// One line per key: name, what it does, default.
std::string configHelp();

// Applies `key = value` text (file name for messages), then `args` of the form
// --key value / --key=value (dashes or underscores). Returns the arguments that
// were not options (the subcommand and its operands).
crdt::Result<std::vector<std::string>> loadConfig(Config& config, const std::vector<std::string>& args);

// Checks ranges and the HOST:PORT form.
crdt::Status validateConfig(const Config& config);

}  // namespace charta::server
