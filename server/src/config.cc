#include "charta/server/config.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "kv_file.h"

namespace charta::server {
namespace {

using crdt::Result;
using crdt::Status;

struct Setting {
  const char* key;
  const char* help;
  std::function<Status(Config&, const std::string&)> set;
};

Status parseUint(const std::string& key, const std::string& text, std::uint64_t& out) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Status::invalidArgument(key + ": expected a non-negative integer, got \"" + text + "\"");
  }
  out = v;
  return Status::ok();
}

Status parseBool(const std::string& key, const std::string& text, bool& out) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") {
    out = true;
  } else if (text == "false" || text == "no" || text == "off" || text == "0") {
    out = false;
  } else {
    return Status::invalidArgument(key + ": expected true or false, got \"" + text + "\"");
  }
  return Status::ok();
}

std::function<Status(Config&, const std::string&)> str(std::string Config::*m) {
  return [m](Config& c, const std::string& v) {
    c.*m = v;
    return Status::ok();
  };
}

std::function<Status(Config&, const std::string&)> uint(const char* key, std::uint64_t Config::*m) {
  return [m, key](Config& c, const std::string& v) { return parseUint(key, v, c.*m); };
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings = {
      {"listen", "HOST:PORT to listen on (default 127.0.0.1:8443)", str(&Config::listen)},
      {"data", "data folder: the SQLite store and server state (default ./charta-data)", str(&Config::data)},
      {"postgres", "libpq connection string; when set, the store is PostgreSQL", str(&Config::postgres)},
      {"tls_cert", "PEM certificate chain; with tls_key the server speaks HTTPS only", str(&Config::tlsCert)},
      {"tls_key", "PEM private key of tls_cert", str(&Config::tlsKey)},
      {"log_file", "append JSON-lines logs to this file (default: stderr)", str(&Config::logFile)},
      {"log_level", "debug, info, warn or error (default info)", str(&Config::logLevel)},
      {"max_body_bytes", "largest request body accepted (default 33554432)",
       uint("max_body_bytes", &Config::maxBodyBytes)},
      {"session_ttl_seconds", "lifetime of a login session (default 3600)",
       uint("session_ttl_seconds", &Config::sessionTtlSeconds)},
      {"enrolment_code_ttl_seconds", "lifetime of a device enrolment code (default 86400)",
       uint("enrolment_code_ttl_seconds", &Config::enrolmentCodeTtlSeconds)},
      {"future_clock_bound_seconds", "ops stamped further than this in the future are flagged (default 300)",
       uint("future_clock_bound_seconds", &Config::futureClockBoundSeconds)},
      {"pull_page_ops", "ops per pull page (default 2000)", uint("pull_page_ops", &Config::pullPageOps)},
      {"push_max_ops", "ops per push batch (default 10000)", uint("push_max_ops", &Config::pushMaxOps)},
      {"login_max_failures", "failed logins before growing delays (default 5)",
       uint("login_max_failures", &Config::loginMaxFailures)},
      {"stale_device_seconds", "a device not seen for this long is stale (default 604800)",
       uint("stale_device_seconds", &Config::staleDeviceSeconds)},
      {"break_glass_ttl_seconds",
       "how long a tablet may keep a chart of another clinic opened by break-glass (default 43200)",
       uint("break_glass_ttl_seconds", &Config::breakGlassTtlSeconds)},
      {"max_attachment_bytes", "largest attachment (photo or document) a tablet may upload (default 104857600)",
       uint("max_attachment_bytes", &Config::maxAttachmentBytes)},
      {"db_pool", "database connections (default 8)",
       [](Config& c, const std::string& v) {
         std::uint64_t n = 0;
         Status s = parseUint("db_pool", v, n);
         if (s.isOk() && (n < 1 || n > 256)) s = Status::invalidArgument("db_pool: 1 to 256");
         if (s.isOk()) c.dbPool = static_cast<int>(n);
         return s;
       }},
      {"demo", "create a demo clinic, users and an enrolment code in an empty store (default false)",
       [](Config& c, const std::string& v) { return parseBool("demo", v, c.demo); }},
  };
  return kSettings;
}

const Setting* findSetting(std::string key) {
  for (char& ch : key) {
    if (ch == '-') ch = '_';
  }
  for (const Setting& s : settings()) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

Status applyFile(Config& config, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError("cannot read config file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto entries = parseKvFile(buf.str(), path);
  if (!entries.isOk()) return entries.status();
  for (const KvEntry& e : entries.value()) {
    const Setting* s = findSetting(e.key);
    if (!s) {
      return Status::invalidArgument(path + ":" + std::to_string(e.line) + ": unknown setting \"" +
                                     e.key + "\"");
    }
    Status st = s->set(config, e.value);
    if (!st.isOk()) {
      return Status::invalidArgument(path + ":" + std::to_string(e.line) + ": " + st.message());
    }
  }
  return Status::ok();
}

}  // namespace

std::string Config::host() const {
  auto colon = listen.rfind(':');
  std::string h = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

std::uint16_t Config::port() const {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return 0;
  unsigned v = 0;
  std::string p = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535) return 0;
  return static_cast<std::uint16_t>(v);
}

std::string configHelp() {
  std::string out;
  for (const Setting& s : settings()) {
    std::string opt = std::string("--") + s.key;
    for (char& ch : opt) {
      if (ch == '_') ch = '-';
    }
    out += "  " + opt;
    out += std::string(opt.size() < 30 ? 30 - opt.size() : 1, ' ');
    out += s.help;
    out += '\n';
  }
  return out;
}

Result<std::vector<std::string>> loadConfig(Config& config, const std::vector<std::string>& args) {
  // The file first, wherever --config appears, so the command line wins.
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string path;
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) return Status::invalidArgument("--config needs a file");
      path = args[i + 1];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      continue;
    }
    Status s = applyFile(config, path);
    if (!s.isOk()) return s;
  }
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      rest.push_back(a);
      continue;
    }
    std::string key = a.substr(2);
    std::string value;
    bool inlineValue = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      inlineValue = true;
    }
    if (key == "config") {
      if (!inlineValue) ++i;
      continue;
    }
    const Setting* s = findSetting(key);
    if (!s) {
      rest.push_back(a);  // a subcommand's own option
      continue;
    }
    if (!inlineValue) {
      if (std::string(s->key) == "demo" && (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)) {
        value = "true";
      } else if (i + 1 >= args.size()) {
        return Status::invalidArgument(a + " needs a value");
      } else {
        value = args[++i];
      }
    }
    Status st = s->set(config, value);
    if (!st.isOk()) return st;
  }
  return rest;
}

Status validateConfig(const Config& config) {
  if (config.port() == 0 || config.host().empty()) {
    return Status::invalidArgument("listen: expected HOST:PORT with a port from 1 to 65535, got \"" +
                                   config.listen + "\"");
  }
  if (config.tlsCert.empty() != config.tlsKey.empty()) {
    return Status::invalidArgument("tls_cert and tls_key go together: set both or neither");
  }
  if (config.sessionTtlSeconds < 60) return Status::invalidArgument("session_ttl_seconds: at least 60");
  if (config.pullPageOps < 1 || config.pullPageOps > 100000) {
    return Status::invalidArgument("pull_page_ops: 1 to 100000");
  }
  if (config.pushMaxOps < 1 || config.pushMaxOps > 1000000) {
    return Status::invalidArgument("push_max_ops: 1 to 1000000");
  }
  if (config.breakGlassTtlSeconds < 60 || config.breakGlassTtlSeconds > 7 * 24 * 3600) {
    return Status::invalidArgument("break_glass_ttl_seconds: 60 to 604800");
  }
  if (config.maxBodyBytes < 1024) return Status::invalidArgument("max_body_bytes: at least 1024");
  if (config.maxAttachmentBytes < 1 || config.maxAttachmentBytes > (std::uint64_t{1} << 40)) {
    return Status::invalidArgument("max_attachment_bytes: 1 to 1099511627776");
  }
  if (config.logLevel != "debug" && config.logLevel != "info" && config.logLevel != "warn" &&
      config.logLevel != "error") {
    return Status::invalidArgument("log_level: debug, info, warn or error");
  }
  if (config.postgres.empty() && config.data.empty()) return Status::invalidArgument("data: a folder is needed");
  return Status::ok();
}

}  // namespace charta::server
