// libFuzzer target for a push body as the server reads it (POST /v1/sync/push,
// server/src/api_sync.cc and pushOps in server/src/sync.cc): the raw bytes go
// through crdt::decodeBatch, a batch over the server's default push_max_ops
// is refused, and every op is then checked as pushOps checks it without a
// store (an op naming no patient is refused, an op id twice in the batch is a
// duplicate) and applied to its patient's chart (ChartDocument::apply, the
// rules the server enforces before it stores an op). The handler and pushOps
// need a device, a store and a transaction, so this target drives the pure
// layers they call, in the same order.
//
// Properties, beyond "never crashes, leaks or hangs":
//  - decoding fails only with kCorruption or kUnsupportedVersion (the 400
//    "malformed" / "unsupported_version" answers);
//  - the same body gives the same verdict per op and the same charts twice;
//  - a retry of the same body changes nothing: every op is a duplicate;
//  - each chart survives a checkpoint (snapshot, fromSnapshot) unchanged;
//  - when the batch's op ids are distinct, the charts do not depend on the
//    order the ops arrive in (the batch reversed converges to the same state),
//    which is what lets every tablet and the server agree.
// Built only with CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_codec.h"

namespace {

using namespace charta::crdt;

// The server's default push_max_ops (docs/PROTOCOL.md, "Push").
constexpr std::size_t kPushMaxOps = 10000;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "push body property broken: %s\n", what.c_str());
  __builtin_trap();
}

// What the server decides for one op of a push, without a store.
enum class Verdict : std::uint8_t { kStored, kHeld, kDuplicate, kNoPatient, kRejected, kOtherPatient };

struct Outcome {
  std::vector<Verdict> verdicts;
  std::map<std::string, ChartDocument> charts;
};

Verdict applyOne(std::map<std::string, ChartDocument>& charts, std::set<OpId>& inBatch, const Op& op) {
  if (inBatch.count(op.id)) return Verdict::kDuplicate;
  if (op.patient.empty()) return Verdict::kNoPatient;
  auto it = charts.find(op.patient);
  if (it == charts.end()) it = charts.emplace(op.patient, ChartDocument(op.patient)).first;
  const Result<ApplyOutcome> applied = it->second.apply(op);
  if (!applied.isOk()) {
    if (applied.status().code() == Status::Code::kRejected) return Verdict::kRejected;
    if (applied.status().code() == Status::Code::kInvalidArgument) return Verdict::kOtherPatient;
    broken("apply failed with an unexpected code: " + applied.status().toString());
  }
  inBatch.insert(op.id);
  switch (applied.value()) {
    case ApplyOutcome::kApplied: return Verdict::kStored;
    case ApplyOutcome::kHeld: return Verdict::kHeld;
    case ApplyOutcome::kDuplicate: return Verdict::kDuplicate;
  }
  return Verdict::kDuplicate;
}

Outcome push(const std::vector<Op>& ops) {
  Outcome out;
  std::set<OpId> inBatch;
  out.verdicts.reserve(ops.size());
  for (const Op& op : ops) out.verdicts.push_back(applyOne(out.charts, inBatch, op));
  return out;
}

std::map<std::string, std::string> states(const std::map<std::string, ChartDocument>& charts) {
  std::map<std::string, std::string> out;
  for (const auto& [patient, doc] : charts) out[patient] = doc.canonicalState();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Result<std::vector<Op>> decoded = decodeBatch(body);
  if (!decoded.isOk()) {
    const Status::Code code = decoded.status().code();
    if (code != Status::Code::kCorruption && code != Status::Code::kUnsupportedVersion) {
      broken("decodeBatch failed with an unexpected code: " + decoded.status().toString());
    }
    return 0;
  }
  const std::vector<Op>& ops = decoded.value();
  if (ops.size() > kPushMaxOps) return 0;  // 413 too_many_ops

  Outcome first = push(ops);
  const std::map<std::string, std::string> state = states(first.charts);

  // The same body again, from scratch: the same verdicts and charts.
  const Outcome second = push(ops);
  if (second.verdicts != first.verdicts) broken("one body gave two sets of verdicts");
  if (states(second.charts) != state) broken("one body gave two different charts");

  // A retry on top of the first: nothing new. (Ops the first push did not
  // apply for a reason of the batch, an op id twice, are answered from the
  // store on a retry, not by a chart.)
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const Verdict verdict = first.verdicts[i];
    if (verdict == Verdict::kDuplicate || verdict == Verdict::kNoPatient || verdict == Verdict::kOtherPatient) continue;
    auto it = first.charts.find(op.patient);
    if (it == first.charts.end()) continue;  // every op of it was a duplicate in the batch
    const Result<ApplyOutcome> again = it->second.apply(op);
    if (again.isOk() && again.value() != ApplyOutcome::kDuplicate) broken("a retried op was applied again");
    if (!again.isOk() && again.status().code() != Status::Code::kInvalidArgument) {
      broken("a retried op was refused anew: " + again.status().toString());
    }
  }
  if (states(first.charts) != state) broken("a retry changed a chart");

  // A checkpoint of each chart reads back as the same chart.
  for (const auto& [patient, doc] : first.charts) {
    Result<ChartDocument> restored = ChartDocument::fromSnapshot(doc.snapshot());
    if (!restored.isOk()) broken("a chart's snapshot does not restore: " + restored.status().toString());
    if (restored.value().canonicalState() != doc.canonicalState()) broken("a chart changed across a snapshot");
    if (restored.value().heldCount() != doc.heldCount()) broken("held ops changed across a snapshot");
  }

  // Delivery order does not matter when every op id is distinct.
  std::set<OpId> ids;
  for (const Op& op : ops) ids.insert(op.id);
  if (ids.size() == ops.size()) {
    const std::vector<Op> reversed(ops.rbegin(), ops.rend());
    const Outcome other = push(reversed);
    if (states(other.charts) != state) broken("the batch reversed gave other charts");
  }
  return 0;
}
