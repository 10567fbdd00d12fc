// charta-bench: Charta's CRDT core side by side with Automerge and Yjs, the
// sync server under many devices, the tablet's sync side by side with
// PouchDB, and the tablet app's cold start and chart opening.
//
//   charta-bench crdt [--json] [--quick] [--peers-dir DIR] [--reps N] [--merge-reps N]
//   charta-bench server [--json] [--quick] [--seconds S] ...   (bench_server.h)
//   charta-bench sync [--json] [--quick] [--skip-peer] ...       (bench_sync.h)
//   charta-bench app [--json] [--patients N] [--years Y] ...    (bench_app.h)
//   charta-bench attachments [--json] [--quick] [--size-mb N] ... (bench_attachments.h)
//
// Runs the same workload (bench_workload.h) in Charta (in this process) and in
// Yjs and Automerge (node/peers.mjs, one node process each) and reports:
//  (a) remote writes applied per second, (b) the time to merge two replicas
//  that diverged, (c) encoded bytes per op, (d) peak memory. With --json the
//  report is one JSON object on stdout (format in docs/BENCHMARKS.md);
//  progress goes to stderr. The report is also written to
//  crdt-bench-last[-quick].json next to the executable.
//
// Exit status: 0 when every figure was measured and all systems agree on the
// resulting states; 1 when a cross-check failed (the report says which); 2
// for usage errors, a missing or broken Node.js setup, or a measurement that
// could not be made (the reason goes to stderr). Speed goals are reported,
// never enforced.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_app.h"
#include "bench_attachments.h"
#include "bench_charta.h"
#include "bench_console.h"
#include "bench_json.h"
#include "bench_peers.h"
#include "bench_process.h"
#include "bench_server.h"
#include "bench_sync.h"
#include "bench_workload.h"

namespace charta::bench {
namespace {

struct Options {
  bool json = false;
  bool quick = false;
  int reps = 3;        // (a), Charta and Yjs
  int mergeReps = 10;  // (b), Charta and Yjs: a run takes milliseconds
  std::string peersDir;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta-bench crdt [--json] [--quick] [--peers-dir DIR] [--reps N] [--merge-reps N]\n"
               "       charta-bench server --help   (the sync server under many devices)\n"
               "       charta-bench sync --help     (the tablet's sync, side by side with PouchDB)\n"
               "       charta-bench app --help      (the tablet app's cold start and chart opening)\n"
               "       charta-bench console --help  (the sysadmin console with 10,000 open conflicts)\n"
               "       charta-bench attachments --help  (photos and documents over loopback)\n"
               "  --json           print the report as one JSON object on stdout\n"
               "  --quick          a 1/20 workload (smoke test)\n"
               "  --peers-dir DIR  where the Node peers are installed (default: peers/ next to the executable)\n"
               "  --reps N         repetitions of (a) for Charta and Yjs (default 3; Automerge runs once)\n"
               "  --merge-reps N   repetitions of (b) for Charta and Yjs (default 10; Automerge runs once)\n");
  return 2;
}

void progress(const std::string& msg) { std::fprintf(stderr, "charta-bench: %s\n", msg.c_str()); }

int fail(const crdt::Status& s, const std::string& what) {
  std::fprintf(stderr, "charta-bench: error: %s: %s\n", what.c_str(), s.toString().c_str());
  return 2;
}

double best(const std::vector<double>& ms) { return *std::min_element(ms.begin(), ms.end()); }
double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

// One row of the report. peers are in the order yjs, automerge.
struct Row {
  std::string name;
  std::string unit;
  bool higherIsBetter = false;
  std::string description;
  double charta = 0;
  std::vector<double> peers;
  std::vector<double> chartaRuns;               // ms per run, when timed
  std::vector<std::vector<double>> peerRuns;    // likewise
  double nodeIdleMiB = -1;                      // only on the memory row
  std::vector<double> transferBytes;            // only on the merge row: charta, then peers
};

// How many times better Charta is than a peer (> 1: Charta is better).
double advantage(const Row& row, double peer) { return row.higherIsBetter ? row.charta / peer : peer / row.charta; }

struct Goal {
  std::string text;
  double target;
  double actual;
  bool met() const { return actual >= target; }
};

struct Checks {
  std::vector<std::pair<std::string, bool>> list;
  void add(std::string name, bool ok) { list.emplace_back(std::move(name), ok); }
  bool allOk() const {
    return std::all_of(list.begin(), list.end(), [](const auto& c) { return c.second; });
  }
};

bool mergeValuesAgree(const std::vector<MergedField>& charta, const PeerResult& peer, bool peerKeepsAll) {
  if (charta.size() != peer.mergeFields.size()) return false;
  for (std::size_t i = 0; i < charta.size(); ++i) {
    const MergedField& c = charta[i];
    const MergedField& p = peer.mergeFields[i];
    if (c.name != p.name) return false;
    if (!std::binary_search(c.values.begin(), c.values.end(), p.shown)) return false;
    if (peerKeepsAll && p.values != c.values) return false;
  }
  return true;
}

std::string report(const Options& opt, const Workload& wl, const std::vector<PeerResult>& peers,
                   const std::vector<Row>& rows, const std::vector<Goal>& goals, const Checks& checks,
                   const PeerEnv& env, double nodeIdleMiB) {
  JsonWriter j;
  j.beginObject().field("suite", "crdt").field("quick", opt.quick);
  j.field("statistic", "best (minimum time) of " + std::to_string(opt.reps) + " runs for (a) and of " +
                           std::to_string(opt.mergeReps) +
                           " runs for (b), for Charta and Yjs; a single run of each for Automerge; memory from "
                           "one run each");
  j.key("workload").beginObject();
  j.field("apply_writes", wl.apply.size()).field("replicas", wl.size.replicas).field("patients", wl.size.patients);
  j.field("fields_per_patient", kBenchFieldCount).field("merge_writes_per_side", wl.mergeA.size());
  j.field("description",
          "(a) every write generated first, encoded as that system's per-write update bytes, then decoded and "
          "applied one at a time on fresh receiving documents (timed); (b) one document, common base, replica A and "
          "replica B each make merge_writes_per_side concurrent writes; timed: decoding and applying B's missing "
          "ops/changes/update to a copy of A; (c) encoded bytes per write; (d) peak RSS of a process running (a) once");
  j.endObject();
  j.key("environment").beginObject().field("node", env.nodeVersion);
  j.key("peer_crash_retries").beginObject();
  for (const PeerResult& p : peers) j.field(p.key(), p.crashRetries);
  j.endObject().endObject();
  j.field("node_idle_rss_mib", nodeIdleMiB);

  j.key("results").beginArray();
  for (const Row& row : rows) {
    j.beginObject().field("name", row.name).field("unit", row.unit).field("charta", row.charta);
    j.key("peers").beginObject();
    for (std::size_t i = 0; i < peers.size(); ++i) j.field(peers[i].key(), row.peers[i]);
    j.endObject();
    j.field("better", row.higherIsBetter ? "higher" : "lower");
    j.key("charta_advantage").beginObject();
    for (std::size_t i = 0; i < peers.size(); ++i) j.field(peers[i].key(), advantage(row, row.peers[i]));
    j.endObject();
    if (!row.chartaRuns.empty()) {
      j.key("runs_ms").beginObject().numbers("charta", row.chartaRuns);
      for (std::size_t i = 0; i < peers.size(); ++i) j.numbers(peers[i].key(), row.peerRuns[i]);
      j.endObject();
    }
    if (row.nodeIdleMiB >= 0) j.field("node_idle_rss_mib", row.nodeIdleMiB);
    if (!row.transferBytes.empty()) {
      j.key("transferred_bytes").beginObject().field("charta", row.transferBytes[0]);
      for (std::size_t i = 0; i < peers.size(); ++i) j.field(peers[i].key(), row.transferBytes[i + 1]);
      j.endObject();
    }
    j.field("description", row.description).endObject();
  }
  j.endArray();

  j.key("goals").beginArray();
  for (const Goal& g : goals) {
    j.beginObject().field("goal", g.text).field("target", g.target).field("actual", g.actual);
    j.field("met", g.met()).endObject();
  }
  j.endArray();
  j.key("checks").beginObject();
  for (const auto& [name, ok] : checks.list) j.field(name, ok);
  j.endObject();
  j.field("ok", checks.allOk()).endObject();
  return j.str();
}

void printTable(const std::vector<PeerResult>& peers, const std::vector<Row>& rows, const std::vector<Goal>& goals,
                const Checks& checks) {
  std::printf("%-28s %-10s %14s", "figure", "unit", "charta");
  for (const PeerResult& p : peers) std::printf(" %20s", p.key().c_str());
  std::printf("\n");
  for (const Row& row : rows) {
    std::printf("%-28s %-10s %14s", row.name.c_str(), row.unit.c_str(), JsonWriter::number(row.charta).c_str());
    for (std::size_t i = 0; i < peers.size(); ++i) {
      const std::string cell =
          JsonWriter::number(row.peers[i]) + " (" + JsonWriter::number(advantage(row, row.peers[i])) + "x)";
      std::printf(" %20s", cell.c_str());
    }
    std::printf("\n");
  }
  for (const Goal& g : goals) {
    std::printf("goal %-44s %s (%sx)\n", g.text.c_str(), g.met() ? "met" : "NOT met",
                JsonWriter::number(g.actual).c_str());
  }
  for (const auto& [name, ok] : checks.list) std::printf("check %-40s %s\n", name.c_str(), ok ? "ok" : "FAILED");
}

int runCrdt(const Options& opt) {
  const WorkloadSize size = opt.quick ? quickSize() : fullSize();
  const std::string exeDir = executableDir();
  const std::string peersDir = opt.peersDir.empty() ? exeDir + "/peers" : opt.peersDir;

  progress("checking Node.js and the peer libraries in " + peersDir);
  auto env = preparePeers(exeDir + "/node", peersDir);
  if (!env.isOk()) return fail(env.status(), "cannot run the Yjs and Automerge peers");

  // Memory first, while this process is still small (the child is a fork).
  progress("(d) Charta peak memory: workload (a) once in a child process");
  auto chartaRss = chartaApplyPeakRssKiB(size);
  if (!chartaRss.isOk()) return fail(chartaRss.status(), "Charta memory run");
  auto idleRss = idleNodeRssKiB(env.value());
  if (!idleRss.isOk()) return fail(idleRss.status(), "idle node run");

  const Workload wl = makeWorkload(size);
  const std::string workloadPath = peersDir + (opt.quick ? "/workload-quick.tsv" : "/workload.tsv");
  if (auto s = writeWorkloadFile(wl, workloadPath); !s.isOk()) return fail(s, "workload file");

  progress("(a) Charta: generating and encoding " + std::to_string(wl.apply.size()) + " writes");
  std::vector<double> applyMs;
  std::string chartaDigest;
  double singleBytes = 0;
  double batchBytes = 0;
  {
    // The encoded ops are released before (b), so each measurement starts
    // from a heap holding only its own data.
    auto enc = encodeApplyWorkload(wl);
    if (!enc.isOk()) return fail(enc.status(), "Charta generating side");
    auto batch = batchBytesPerOp(wl, enc.value());
    if (!batch.isOk()) return fail(batch.status(), "Charta batch encoding");
    batchBytes = batch.value();
    singleBytes = static_cast<double>(enc.value().totalBytes) / static_cast<double>(enc.value().ops.size());
    for (int rep = 0; rep < opt.reps; ++rep) {
      auto run = applyOnce(wl, enc.value());
      if (!run.isOk()) return fail(run.status(), "Charta apply");
      applyMs.push_back(run.value().ms);
      chartaDigest = run.value().digest;
      progress("(a) Charta apply run " + std::to_string(rep + 1) + ": " + JsonWriter::number(run.value().ms) +
               " ms");
    }
  }

  progress("(b) Charta: preparing two replicas with " + std::to_string(wl.mergeA.size()) + " writes each");
  auto prepared = prepareMerge(wl);
  if (!prepared.isOk()) return fail(prepared.status(), "Charta merge preparation");
  std::vector<double> mergeMs;
  std::vector<MergedField> chartaFields;
  std::uint64_t mergedHash = 0;
  for (int rep = 0; rep < opt.mergeReps; ++rep) {
    auto run = mergeOnce(prepared.value(), false);
    if (!run.isOk()) return fail(run.status(), "Charta merge");
    mergeMs.push_back(run.value().ms);
    chartaFields = run.value().fields;
    mergedHash = run.value().stateHash;
    progress("(b) Charta merge run " + std::to_string(rep + 1) + ": " + JsonWriter::number(run.value().ms) + " ms");
  }
  auto reverse = mergeOnce(prepared.value(), true);
  if (!reverse.isOk()) return fail(reverse.status(), "Charta reverse merge");

  std::vector<PeerResult> peers;
  for (const char* system : {"yjs", "automerge"}) {
    const bool once = std::strcmp(system, "automerge") == 0;
    const int reps = once ? 1 : opt.reps;
    const int mergeReps = once ? 1 : opt.mergeReps;
    progress(std::string("running the ") + system + " peer");
    auto peer = runPeer(env.value(), system, workloadPath, reps, mergeReps);
    if (!peer.isOk()) return fail(peer.status(), std::string(system) + " peer");
    peers.push_back(std::move(peer).value());
  }
  const PeerResult& yjs = peers[0];
  const PeerResult& am = peers[1];

  Checks checks;
  checks.add("charta_apply_state_equals_generating_side", true);  // applyOnce fails otherwise
  checks.add("peers_ran_every_op", yjs.applyOps == wl.apply.size() && am.applyOps == wl.apply.size() &&
                                       yjs.mergeOps == wl.mergeB.size() && am.mergeOps == wl.mergeB.size());
  checks.add("apply_final_values_agree", chartaDigest == yjs.applyDigest && chartaDigest == am.applyDigest);
  checks.add("charta_merge_same_both_ways", mergedHash == reverse.value().stateHash);
  checks.add("yjs_merge_same_both_ways", yjs.mergeConsistent);
  checks.add("automerge_merge_same_both_ways", am.mergeConsistent);
  checks.add("merge_values_agree_with_yjs", mergeValuesAgree(chartaFields, yjs, false));
  checks.add("merge_values_agree_with_automerge", mergeValuesAgree(chartaFields, am, true));

  const auto opsPerSec = [](std::size_t ops, double ms) { return static_cast<double>(ops) / ms * 1000.0; };
  const std::size_t n = wl.apply.size();
  std::vector<Row> rows(5);
  Row& apply = rows[0];
  apply.name = "apply_remote_writes";
  apply.unit = "ops/s";
  apply.higherIsBetter = true;
  apply.description = "writes decoded and applied per second, each write received as its own remote update";
  apply.charta = opsPerSec(n, best(applyMs));
  apply.peers = {opsPerSec(n, best(yjs.applyMs)), opsPerSec(n, best(am.applyMs))};
  apply.chartaRuns = applyMs;
  apply.peerRuns = {yjs.applyMs, am.applyMs};

  Row& merge = rows[1];
  merge.name = "merge_diverged_replicas";
  merge.unit = "ms";
  merge.description = "time to decode and apply one side's concurrent writes to a copy of the other replica";
  merge.charta = best(mergeMs);
  merge.peers = {best(yjs.mergeMs), best(am.mergeMs)};
  merge.chartaRuns = mergeMs;
  merge.peerRuns = {yjs.mergeMs, am.mergeMs};
  merge.transferBytes = {static_cast<double>(prepared.value().bOps.size()), static_cast<double>(yjs.mergeBytes),
                         static_cast<double>(am.mergeBytes)};

  Row& single = rows[2];
  single.name = "bytes_per_write_update";
  single.unit = "bytes/op";
  single.description = "average size of one write sent on its own: Charta encodeOp, Yjs update, Automerge change";
  single.charta = singleBytes;
  single.peers = {yjs.bytesUpdateAvg, am.bytesUpdateAvg};

  Row& batch = rows[3];
  batch.name = "bytes_per_write_batch";
  batch.unit = "bytes/op";
  batch.description =
      "bytes per write with each patient's data as one blob, totalled over patients: Charta encodeBatch of all its "
      "ops, Yjs encodeStateAsUpdate (overwritten values garbage-collected), Automerge save (compressed history)";
  batch.charta = batchBytes;
  batch.peers = {yjs.bytesBatchAvg, am.bytesBatchAvg};

  Row& memory = rows[4];
  memory.name = "peak_rss_apply";
  memory.unit = "MiB";
  memory.description =
      "peak resident memory of a process running workload (a) once (workload, generating side, encoded bytes, "
      "receiving side); the node figures include an idle node process's baseline";
  memory.charta = mib(chartaRss.value());
  memory.peers = {mib(yjs.maxRssKiB), mib(am.maxRssKiB)};
  memory.nodeIdleMiB = mib(idleRss.value());

  const std::vector<Goal> goals = {
      {"apply: at least 10x Automerge", 10, advantage(apply, apply.peers[1])},
      {"apply: at least 3x Yjs", 3, advantage(apply, apply.peers[0])},
      {"merge: at least 10x Automerge", 10, advantage(merge, merge.peers[1])},
      {"merge: at least 3x Yjs", 3, advantage(merge, merge.peers[0])},
      {"bytes per write: no more than Yjs", 1, advantage(single, single.peers[0])},
  };

  const std::string json = report(opt, wl, peers, rows, goals, checks, env.value(), mib(idleRss.value()));
  const std::string lastRun = exeDir + (opt.quick ? "/crdt-bench-last-quick.json" : "/crdt-bench-last.json");
  if (auto s = writeFile(lastRun, json + "\n"); !s.isOk()) progress("warning: " + s.toString());
  if (opt.json) {
    std::printf("%s\n", json.c_str());
  } else {
    printTable(peers, rows, goals, checks);
  }
  if (!checks.allOk()) {
    progress("error: the systems disagree on the resulting state (see \"checks\")");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace charta::bench

int main(int argc, char** argv) {
  using charta::bench::Options;
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) return charta::bench::serverBenchMain(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "sync") == 0) return charta::bench::syncBenchMain(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "console") == 0) {
    return charta::bench::consoleBenchMain(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "app") == 0) return charta::bench::appBenchMain(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "attachments") == 0) {
    return charta::bench::attachmentsBenchMain(argc - 1, argv + 1);
  }
  if (argc < 2 || std::strcmp(argv[1], "crdt") != 0) return charta::bench::usage();
  Options opt;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--peers-dir" && i + 1 < argc) {
      opt.peersDir = argv[++i];
    } else if (a == "--reps" && i + 1 < argc) {
      opt.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--merge-reps" && i + 1 < argc) {
      opt.mergeReps = std::max(1, std::atoi(argv[++i]));
    } else {
      return charta::bench::usage();
    }
  }
  return charta::bench::runCrdt(opt);
}
