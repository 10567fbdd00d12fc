#include "bench_peers.h"

#include <charconv>
#include <cstdio>
#include <sstream>

#include "bench_process.h"

namespace charta::bench {
namespace {

using crdt::Status;

constexpr int kMinNodeMajor = 18;
constexpr int kCrashRetries = 1;
constexpr const char* kStampFile = "node_modules/.charta-bench-installed.json";

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> cols;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return cols;
    start = tab + 1;
  }
}

bool parseDouble(const std::string& s, double& out) {
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

template <typename Int>
bool parseInt(const std::string& s, Int& out) {
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

Status copyIfChanged(const std::string& from, const std::string& to) {
  const auto source = readFile(from);
  if (!source) return Status::notFound("missing " + from);
  if (readFile(to) == source) return Status::ok();
  return writeFile(to, *source);
}

// "v20.11.1" -> 20
int nodeMajor(const std::string& version) {
  int major = 0;
  const std::size_t dot = version.find('.');
  if (version.size() < 2 || version[0] != 'v' || dot == std::string::npos) return 0;
  if (!parseInt(version.substr(1, dot - 1), major)) return 0;
  return major;
}

}  // namespace

crdt::Result<PeerEnv> preparePeers(const std::string& sourceDir, const std::string& peersDir) {
  PeerEnv env;
  env.peersDir = peersDir;
  const auto node = findInPath("node");
  if (!node) {
    return Status::notFound(
        "node is not on PATH: the benchmark runs Yjs and Automerge under Node.js " + std::to_string(kMinNodeMajor) +
        " or newer (install nodejs and npm)");
  }
  env.node = *node;
  auto version = runProcess({env.node, "--version"}, "", true);
  if (!version.isOk() || version.value().exitCode != 0) return Status::notFound("node --version failed");
  env.nodeVersion = version.value().output;
  while (!env.nodeVersion.empty() && (env.nodeVersion.back() == '\n' || env.nodeVersion.back() == '\r')) {
    env.nodeVersion.pop_back();
  }
  if (nodeMajor(env.nodeVersion) < kMinNodeMajor) {
    return Status::notFound("node " + env.nodeVersion + " is too old: Node.js " + std::to_string(kMinNodeMajor) +
                            " or newer is needed");
  }

  if (Status s = makeDirectories(peersDir); !s.isOk()) return s;
  if (Status s = copyIfChanged(sourceDir + "/package.json", peersDir + "/package.json"); !s.isOk()) return s;
  if (Status s = copyIfChanged(sourceDir + "/peers.mjs", peersDir + "/peers.mjs"); !s.isOk()) return s;

  const std::string stamp = peersDir + "/" + kStampFile;
  const bool installed = fileExists(peersDir + "/node_modules/@automerge/automerge/package.json") &&
                         fileExists(peersDir + "/node_modules/yjs/package.json") &&
                         readFile(stamp) == readFile(peersDir + "/package.json");
  if (installed) return env;

  if (!findInPath("npm")) {
    return Status::notFound("npm is not on PATH: it is needed once to install Yjs and Automerge into " + peersDir);
  }
  std::fprintf(stderr, "charta-bench: installing the peer libraries into %s\n", peersDir.c_str());
  auto npm = runProcess({"npm", "install", "--no-audit", "--no-fund", "--omit=dev"}, peersDir, false);
  if (!npm.isOk()) return npm.status();
  if (npm.value().exitCode != 0) {
    return Status::notFound("npm install failed in " + peersDir + " (exit " + std::to_string(npm.value().exitCode) +
                            "); see the npm output above");
  }
  if (Status s = writeFile(stamp, *readFile(peersDir + "/package.json")); !s.isOk()) return s;
  return env;
}

crdt::Result<PeerResult> runPeer(const PeerEnv& env, const std::string& system, const std::string& workloadPath,
                                 int applyReps, int mergeReps) {
  const std::vector<std::string> argv = {env.node,     env.peersDir + "/peers.mjs",
                                         "--system",   system,
                                         "--workload", workloadPath,
                                         "--apply-reps", std::to_string(applyReps),
                                         "--merge-reps", std::to_string(mergeReps)};
  PeerResult r;
  auto run = runProcess(argv, "", true);
  // node itself crashing (killed by a signal, e.g. an intermittent V8 fatal
  // error) is retried; an error the script reports is not.
  for (int retry = 0; run.isOk() && run.value().exitCode >= 128 && retry < kCrashRetries; ++retry) {
    std::fprintf(stderr, "charta-bench: warning: node crashed running the %s peer (exit %d); running it again\n",
                 system.c_str(), run.value().exitCode);
    ++r.crashRetries;
    run = runProcess(argv, "", true);
  }
  if (!run.isOk()) return run.status();
  if (run.value().exitCode != 0) {
    return Status::invalidArgument("the " + system + " peer failed (exit " + std::to_string(run.value().exitCode) +
                                   "); see its messages above");
  }

  std::istringstream lines(run.value().output);
  std::string line;
  bool ok = true;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> cols = splitTabs(line);
    const std::string& key = cols[0];
    const bool one = cols.size() == 2;
    if (key == "system" && one) {
      r.system = cols[1];
    } else if (key == "version" && one) {
      r.version = cols[1];
    } else if (key == "node") {
      // informational
    } else if (key == "bytes_update_avg" && one) {
      ok = ok && parseDouble(cols[1], r.bytesUpdateAvg);
    } else if (key == "bytes_batch_avg" && one) {
      ok = ok && parseDouble(cols[1], r.bytesBatchAvg);
    } else if (key == "max_rss_kib" && one) {
      ok = ok && parseInt(cols[1], r.maxRssKiB);
    } else if (key == "apply_ops" && one) {
      ok = ok && parseInt(cols[1], r.applyOps);
    } else if (key == "apply_digest" && one) {
      r.applyDigest = cols[1];
    } else if (key == "merge_ops" && one) {
      ok = ok && parseInt(cols[1], r.mergeOps);
    } else if (key == "merge_bytes" && one) {
      ok = ok && parseInt(cols[1], r.mergeBytes);
    } else if (key == "merge_consistent" && one) {
      r.mergeConsistent = cols[1] == "1";
    } else if (key == "apply_ms" || key == "merge_ms") {
      auto& list = key == "apply_ms" ? r.applyMs : r.mergeMs;
      for (std::size_t i = 1; i < cols.size(); ++i) {
        double v = 0;
        ok = ok && parseDouble(cols[i], v);
        list.push_back(v);
      }
    } else if (key == "merge_field" && cols.size() >= 3) {
      MergedField f;
      f.name = cols[1];
      f.shown = cols[2];
      f.values.assign(cols.begin() + 3, cols.end());
      r.mergeFields.push_back(std::move(f));
    } else {
      ok = false;
    }
    if (!ok) return Status::corruption("the " + system + " peer printed an unexpected line: " + line);
  }
  if (r.system != system || r.version.empty() || r.applyMs.empty() || r.mergeMs.empty() || r.applyDigest.empty()) {
    return Status::corruption("the " + system + " peer's report is incomplete");
  }
  return r;
}

crdt::Result<long> idleNodeRssKiB(const PeerEnv& env) {
  auto run = runProcess({env.node, env.peersDir + "/peers.mjs", "--idle"}, "", true);
  if (!run.isOk()) return run.status();
  if (run.value().exitCode != 0) return Status::invalidArgument("node --idle run failed");
  std::istringstream lines(run.value().output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto cols = splitTabs(line);
    long kib = 0;
    if (cols.size() == 2 && cols[0] == "max_rss_kib" && parseInt(cols[1], kib)) return kib;
  }
  return Status::corruption("the idle node run printed no max_rss_kib");
}

}  // namespace charta::bench
