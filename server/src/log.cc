#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace charta::server {

namespace {

// "2026-11-22T10:15:30.123Z"
std::string utcTimestamp() {
  const auto sinceEpoch = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(sinceEpoch).count();
  std::int64_t secs = ms / 1000;
  std::int64_t milli = ms % 1000;
  if (milli < 0) {
    milli += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(milli));
  return buf;
}

bool taken(const json::Object& o, std::string_view key) {
  for (const auto& member : o) {
    if (member.first == key) return true;
  }
  return false;
}

}  // namespace

crdt::Result<std::unique_ptr<Logger>> Logger::open(const std::string& path, Level minLevel) {
  if (path.empty()) return std::unique_ptr<Logger>(new Logger(STDERR_FILENO, false, minLevel));
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return crdt::Status::ioError("cannot open log file " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<Logger>(new Logger(fd, true, minLevel));
}

std::optional<Logger::Level> Logger::parseLevel(std::string_view name) {
  for (const Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == levelName(level)) return level;
  }
  return std::nullopt;
}

std::string_view Logger::levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "unknown";
}

Logger::~Logger() {
  if (m_ownsFd) ::close(m_fd);
}

void Logger::log(Level level, std::string_view event, json::Object fields) {
  if (level < m_minLevel) return;
  json::Object line;
  line.reserve(fields.size() + 3);
  line.emplace_back("ts", json::Value(utcTimestamp()));
  line.emplace_back("level", json::Value(levelName(level)));
  line.emplace_back("event", json::Value(event));
  for (auto& [key, value] : fields) {
    std::string unique = std::move(key);
    while (taken(line, unique)) unique = "_" + unique;
    line.emplace_back(std::move(unique), std::move(value));
  }
  std::string text = json::serialize(json::Value(std::move(line)));
  text.push_back('\n');

  const std::lock_guard<std::mutex> lock(m_mutex);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(m_fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace charta::server
