// The Charta side of the CRDT benchmark: the workload run through charta_crdt.
//
// (a) apply: encodeApplyWorkload() plays the generating side (one OpFactory
//     per replica, one ChartDocument per patient that every write is made
//     against, so preds are exact) and encodes each op with encodeOp. Timed in
//     applyOnce(): decodeOp + ChartDocument::apply of every op, in order, on
//     fresh receiving documents (routed by the op's patient id).
// (b) merge: prepareMerge() builds replica A's and replica B's documents from
//     a common base and encodes each side's ops as one batch. Timed in
//     mergeOnce(): decodeBatch of B's ops + apply of each to a copy of A.
// (c) bytes: average encodeOp size, and encodeBatch per patient totalled.
//
// Every function checks its results (all ops applied, receiving state equal
// to the generating state) and returns a non-ok Status when they are wrong.
//
// Thread-safety: none needed; single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_workload.h"
#include "charta/crdt/chart_document.h"
#include "charta/crdt/status.h"

namespace charta::bench {

// What the generating side produced for the apply workload.
struct EncodedApply {
  std::vector<std::string> ops;          // encodeOp bytes, in write order
  std::vector<std::uint64_t> stateHash;  // generating side's stateHash per patient
  std::size_t totalBytes = 0;            // sum of ops[i].size()
};

crdt::Result<EncodedApply> encodeApplyWorkload(const Workload& wl);

// Bytes per op when each patient's ops are sent as one encodeBatch; decodes
// every single op on the way (a round trip of the codec).
crdt::Result<double> batchBytesPerOp(const Workload& wl, const EncodedApply& enc);

struct ApplyRun {
  double ms = 0;       // decode + apply of every op
  std::string digest;  // StateDigest of the shown values
};

crdt::Result<ApplyRun> applyOnce(const Workload& wl, const EncodedApply& enc);

// One field of the merged document: the shown value and every head's value.
struct MergedField {
  std::string name;
  std::string shown;
  std::vector<std::string> values;  // sorted
};

struct PreparedMerge {
  crdt::ChartDocument a{patientId(0)};
  crdt::ChartDocument b{patientId(0)};
  std::string aOps;  // encodeBatch of A's ops since the base
  std::string bOps;  // encodeBatch of B's ops since the base
  std::size_t opsPerSide = 0;
};

crdt::Result<PreparedMerge> prepareMerge(const Workload& wl);

struct MergeRun {
  double ms = 0;  // decodeBatch + apply of the other side's ops
  std::uint64_t stateHash = 0;
  std::vector<MergedField> fields;
};

// Merges B into a copy of A (reverse: A into a copy of B).
crdt::Result<MergeRun> mergeOnce(const PreparedMerge& prepared, bool reverse);

// Runs workload (a) once (generate, encode, apply) in a forked child process
// and returns the child's peak resident set (KiB) as reported by wait4.
crdt::Result<long> chartaApplyPeakRssKiB(const WorkloadSize& size);

}  // namespace charta::bench
