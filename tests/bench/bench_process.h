// Small POSIX helpers for charta-bench: finding and running other programs,
// files, and the few figures every suite prints.
//
// Every failure (a program that is not there, fork/exec/pipe errors) is
// returned as a Status; nothing throws.
//
// Thread-safety: none needed; the bench is single-threaded.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::bench {

// The full path of an executable named `name` on PATH, or nullopt.
std::optional<std::string> findInPath(const std::string& name);

// The directory holding the running executable.
std::string executableDir();

struct ProcessResult {
  int exitCode = -1;   // the exit status, or 128 + signal when killed
  std::string output;  // stdout, when captured
};

// Runs argv[0] (looked up on PATH) in `cwd` (empty: the current directory).
// With captureStdout its stdout is returned; otherwise it goes to this
// process's stderr (this process's stdout is reserved for the report).
// stderr is always inherited.
crdt::Result<ProcessResult> runProcess(const std::vector<std::string>& argv, const std::string& cwd,
                                       bool captureStdout);

// File helpers; readFile returns nullopt when the file cannot be read.
std::optional<std::string> readFile(const std::string& path);
crdt::Status writeFile(const std::string& path, const std::string& contents);
bool fileExists(const std::string& path);
crdt::Status makeDirectories(const std::string& path);

// A progress line on stderr ("charta-bench: ...": stdout holds the report).
inline void progress(const std::string& msg) { std::fprintf(stderr, "charta-bench: %s\n", msg.c_str()); }

// Milliseconds since t.
inline double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// The median (0 for no values).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace charta::bench
