#pragma once

// The server's configuration file format: one `key = value` per line.
//
//   # a comment            blank lines and lines starting with '#' are skipped
//   http.port = 8443       keys are [a-z0-9_.-]+; spaces around '=' are ignored
//   db.path = /var/x # c   an unquoted value is trimmed and ends at '#'
//   motd = "  # kept  "    a quoted value keeps spaces and '#'; \" and \\ escape
//
// A line may end in "\r\n". Control characters other than tab are refused.
// Every key appears at most once. Errors are kInvalidArgument with the message
// "<fileName>:<line>: <problem>". Pure function; no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::server {

struct KvEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based
};

// The entries in file order.
crdt::Result<std::vector<KvEntry>> parseKvFile(std::string_view text, std::string_view fileName);

}  // namespace charta::server
