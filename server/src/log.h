#pragma once

// JSON-lines logger: one object per line,
//
//   {"ts":"2026-11-22T10:15:30.123Z","level":"info","event":"...",...fields}
//
// ts is UTC with milliseconds. A field whose key is already taken (ts, level,
// event or an earlier field) is written with '_' prefixed until it is unique,
// so every line parses with json::parse. Each line goes out in one write()
// under a mutex: lines from different threads never interleave, and with
// O_APPEND neither do lines from different processes. Write errors are
// dropped (a logger has nowhere to report them).
//
// Thread-safety: all members may be called concurrently.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "charta/crdt/status.h"
#include "json.h"

namespace charta::server {

class Logger {
 public:
  enum class Level { kDebug, kInfo, kWarn, kError };

  // Appends to `path` (created 0600 if missing), or writes to stderr when path
  // is empty. kIoError if the file cannot be opened.
  static crdt::Result<std::unique_ptr<Logger>> open(const std::string& path, Level minLevel);
  // "debug", "info", "warn", "error"; nullopt for anything else.
  static std::optional<Level> parseLevel(std::string_view name);
  static std::string_view levelName(Level level);

  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Lines below minLevel() are skipped.
  void log(Level level, std::string_view event, json::Object fields = {});
  void debug(std::string_view event, json::Object fields = {}) { log(Level::kDebug, event, std::move(fields)); }
  void info(std::string_view event, json::Object fields = {}) { log(Level::kInfo, event, std::move(fields)); }
  void warn(std::string_view event, json::Object fields = {}) { log(Level::kWarn, event, std::move(fields)); }
  void error(std::string_view event, json::Object fields = {}) { log(Level::kError, event, std::move(fields)); }

  Level minLevel() const { return m_minLevel; }

 private:
  Logger(int fd, bool ownsFd, Level minLevel) : m_fd(fd), m_ownsFd(ownsFd), m_minLevel(minLevel) {}

  const int m_fd;
  const bool m_ownsFd;
  const Level m_minLevel;
  std::mutex m_mutex;  // one line at a time on m_fd
};

}  // namespace charta::server
