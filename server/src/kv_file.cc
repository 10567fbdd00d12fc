#include "kv_file.h"

#include <optional>

#include "json.h"

namespace charta::server {

namespace {

constexpr std::size_t kNameInMessage = 64;  // bytes of a key quoted in a message

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'; }

// Reads the value after '='; nullopt with `problem` set on error.
std::optional<std::string> parseValue(std::string_view raw, std::string& problem) {
  std::string_view v = trim(raw);
  if (v.empty() || v.front() != '"') {
    const std::size_t hash = v.find('#');
    return std::string(trim(v.substr(0, hash)));
  }
  std::string out;
  std::size_t i = 1;
  for (;;) {
    if (i >= v.size()) {
      problem = "unterminated quote";
      return std::nullopt;
    }
    const char c = v[i];
    if (c == '"') break;
    if (c == '\\') {
      if (i + 1 >= v.size() || (v[i + 1] != '"' && v[i + 1] != '\\')) {
        problem = "expected \\\" or \\\\ after '\\' in a quoted value";
        return std::nullopt;
      }
      out.push_back(v[i + 1]);
      i += 2;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  const std::string_view rest = trim(v.substr(i + 1));
  if (!rest.empty() && rest.front() != '#') {
    problem = "unexpected text after the closing quote";
    return std::nullopt;
  }
  return out;
}

}  // namespace

crdt::Result<std::vector<KvEntry>> parseKvFile(std::string_view text, std::string_view fileName) {
  std::vector<KvEntry> entries;
  int lineNo = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++lineNo;
    const std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const auto fail = [&](std::string_view problem) {
      return crdt::Status::invalidArgument(std::string(fileName) + ":" + std::to_string(lineNo) + ": " +
                                           std::string(problem));
    };
    for (const char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return fail("control character");
      if (c == 0x7F) return fail("control character");
    }
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;

    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("expected '=' between key and value");
    const std::string_view key = trim(line.substr(0, eq));
    bool keyOk = !key.empty();
    for (const char c : key) keyOk = keyOk && isKeyChar(c);
    if (!keyOk) {
      return fail("bad key " + json::quote(key.substr(0, kNameInMessage)) + " (expected [a-z0-9_.-]+)");
    }
    for (const KvEntry& e : entries) {
      if (e.key == key) {
        return fail("duplicate key \"" + std::string(key) + "\" (first on line " + std::to_string(e.line) + ")");
      }
    }
    std::string problem;
    std::optional<std::string> value = parseValue(line.substr(eq + 1), problem);
    if (!value) return fail(problem);
    entries.push_back(KvEntry{std::string(key), std::move(*value), lineNo});
  }
  return entries;
}

}  // namespace charta::server
