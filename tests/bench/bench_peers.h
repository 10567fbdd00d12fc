// The peer side of charta-bench: Yjs and Automerge, run by node/peers.mjs.
//
// preparePeers() checks that node (18 or newer) and npm are on PATH, copies
// package.json and peers.mjs into the peers directory and runs
// `npm install --no-audit --no-fund --omit=dev` there when the pinned
// packages are not installed yet (a stamp remembers which package.json was
// installed). runPeer() runs one system in its own node process and parses
// the lines peers.mjs prints; when node itself dies from a signal (V8 has
// intermittent fatal errors) it runs the system once more, and counts that.
//
// Every failure (no node, a failed install, a peer that crashed or printed
// something unexpected) is a Status with a message meant for a person.
//
// Thread-safety: none needed.
#pragma once

#include <string>
#include <vector>

#include "bench_charta.h"
#include "charta/crdt/status.h"

namespace charta::bench {

struct PeerEnv {
  std::string node;      // path of the node executable
  std::string nodeVersion;
  std::string peersDir;  // holds package.json, peers.mjs and node_modules
};

// sourceDir holds the package.json and peers.mjs to install into peersDir.
crdt::Result<PeerEnv> preparePeers(const std::string& sourceDir, const std::string& peersDir);

struct PeerResult {
  std::string system;   // "yjs", "automerge"
  std::string version;  // the installed package's version
  double bytesUpdateAvg = 0;
  double bytesBatchAvg = 0;
  long maxRssKiB = 0;
  std::size_t applyOps = 0;
  std::vector<double> applyMs;
  std::string applyDigest;
  std::size_t mergeOps = 0;
  std::size_t mergeBytes = 0;  // what the merge transferred
  std::vector<double> mergeMs;
  bool mergeConsistent = false;
  std::vector<MergedField> mergeFields;
  int crashRetries = 0;  // runs repeated because node crashed (see runPeer)

  std::string key() const { return system + "-" + version; }
};

crdt::Result<PeerResult> runPeer(const PeerEnv& env, const std::string& system, const std::string& workloadPath,
                                 int applyReps, int mergeReps);

// maxRSS (KiB) of a node process that only starts and reports.
crdt::Result<long> idleNodeRssKiB(const PeerEnv& env);

}  // namespace charta::bench
