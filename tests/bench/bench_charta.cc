#include "bench_charta.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <unordered_map>

#include "bench_process.h"
#include "charta/crdt/op_codec.h"
#include "charta/crdt/op_factory.h"

namespace charta::bench {
namespace {

using crdt::ChartDocument;
using crdt::Op;
using crdt::Status;

// The devices' wall clock: the bench sets it to each write's time.
class SteppingClock final : public crdt::WallClock {
 public:
  std::uint64_t nowMs() const override { return m_nowMs; }
  void set(std::uint64_t nowMs) { m_nowMs = nowMs; }

 private:
  std::uint64_t m_nowMs = 0;
};

crdt::FieldRef demographicRef(std::size_t fieldIndex) {
  crdt::FieldRef ref;
  ref.collection = crdt::Collection::kDemographics;
  ref.field = kBenchFields[fieldIndex];
  return ref;
}

const std::string* textOf(const crdt::Value& v) { return std::get_if<std::string>(&v); }

Status applyExpectingSuccess(ChartDocument& doc, const Op& op) {
  auto outcome = doc.apply(op);
  if (!outcome.isOk()) return outcome.status();
  if (outcome.value() != crdt::ApplyOutcome::kApplied) {
    return Status::invalidArgument("op " + crdt::toString(op.id) + " was not applied at once");
  }
  return Status::ok();
}

std::vector<std::unique_ptr<crdt::OpFactory>> makeFactories(std::size_t replicas, const SteppingClock& clock) {
  std::vector<std::unique_ptr<crdt::OpFactory>> out;
  out.reserve(replicas);
  for (std::size_t r = 1; r <= replicas; ++r) {
    auto f = std::make_unique<crdt::OpFactory>(crdt::ReplicaId{r}, clock);
    f->setUser(userOf(static_cast<std::uint32_t>(r)));
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<ChartDocument> makeDocuments(std::size_t patients) {
  std::vector<ChartDocument> docs;
  docs.reserve(patients);
  for (std::size_t p = 0; p < patients; ++p) docs.emplace_back(patientId(static_cast<std::uint32_t>(p)));
  return docs;
}

// Makes `writes` with their replicas' factories on `doc` (applying each).
crdt::Result<std::vector<Op>> writeSide(ChartDocument& doc, const std::vector<Write>& writes, SteppingClock& clock,
                                        std::unordered_map<std::uint32_t, std::unique_ptr<crdt::OpFactory>>& factories) {
  std::vector<Op> ops;
  ops.reserve(writes.size());
  for (const Write& w : writes) {
    auto& factory = factories[w.replica];
    if (!factory) {
      factory = std::make_unique<crdt::OpFactory>(crdt::ReplicaId{w.replica}, clock);
      factory->setUser(userOf(w.replica));
    }
    clock.set(w.timeMs);
    Op op = factory->writeField(doc, demographicRef(w.field), crdt::Value(w.value));
    if (Status s = applyExpectingSuccess(doc, op); !s.isOk()) return s;
    ops.push_back(std::move(op));
  }
  return ops;
}

}  // namespace

crdt::Result<EncodedApply> encodeApplyWorkload(const Workload& wl) {
  SteppingClock clock;
  auto factories = makeFactories(wl.size.replicas, clock);
  std::vector<ChartDocument> docs = makeDocuments(wl.size.patients);
  EncodedApply enc;
  enc.ops.reserve(wl.apply.size());
  for (const Write& w : wl.apply) {
    clock.set(w.timeMs);
    ChartDocument& doc = docs[w.patient];
    const Op op = factories[w.replica - 1]->writeField(doc, demographicRef(w.field), crdt::Value(w.value));
    if (Status s = applyExpectingSuccess(doc, op); !s.isOk()) return s;
    enc.ops.push_back(crdt::encodeOp(op));
    enc.totalBytes += enc.ops.back().size();
  }
  enc.stateHash.reserve(docs.size());
  for (const ChartDocument& doc : docs) enc.stateHash.push_back(doc.stateHash());
  return enc;
}

crdt::Result<double> batchBytesPerOp(const Workload& wl, const EncodedApply& enc) {
  std::vector<std::vector<Op>> perPatient(wl.size.patients);
  for (std::size_t i = 0; i < enc.ops.size(); ++i) {
    auto op = crdt::decodeOp(enc.ops[i]);
    if (!op.isOk()) return op.status();
    perPatient[wl.apply[i].patient].push_back(std::move(op).value());
  }
  std::size_t total = 0;
  for (const auto& ops : perPatient) {
    if (!ops.empty()) total += crdt::encodeBatch(std::span<const Op>(ops)).size();
  }
  return static_cast<double>(total) / static_cast<double>(enc.ops.size());
}

crdt::Result<ApplyRun> applyOnce(const Workload& wl, const EncodedApply& enc) {
  std::vector<ChartDocument> docs = makeDocuments(wl.size.patients);
  std::unordered_map<std::string, ChartDocument*> byPatient;
  for (ChartDocument& doc : docs) byPatient.emplace(doc.patientId(), &doc);

  std::size_t applied = 0;
  Status failure;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& bytes : enc.ops) {
    auto op = crdt::decodeOp(bytes);
    if (!op.isOk()) {
      failure = op.status();
      break;
    }
    const auto it = byPatient.find(op.value().patient);
    if (it == byPatient.end()) {
      failure = Status::invalidArgument("op for an unknown patient " + op.value().patient);
      break;
    }
    auto outcome = it->second->apply(op.value());
    if (!outcome.isOk()) {
      failure = outcome.status();
      break;
    }
    if (outcome.value() == crdt::ApplyOutcome::kApplied) ++applied;
  }
  ApplyRun run;
  run.ms = msSince(start);
  if (!failure.isOk()) return failure;
  if (applied != enc.ops.size()) {
    return Status::invalidArgument("only " + std::to_string(applied) + " of " + std::to_string(enc.ops.size()) +
                                   " ops applied at once");
  }

  StateDigest digest;
  for (std::uint32_t p = 0; p < docs.size(); ++p) {
    if (docs[p].stateHash() != enc.stateHash[p]) {
      return Status::invalidArgument("receiving state of " + patientId(p) + " differs from the generating side");
    }
    for (std::size_t f = 0; f < kBenchFieldCount; ++f) {
      const crdt::Register& reg = docs[p].demographic(kBenchFields[f]);
      if (reg.empty()) continue;
      const std::string* text = textOf(reg.current().value);
      if (text == nullptr) return Status::invalidArgument("a field holds a non-text value");
      digest.add(p, f, *text);
    }
  }
  run.digest = digest.hex();
  return run;
}

crdt::Result<PreparedMerge> prepareMerge(const Workload& wl) {
  SteppingClock clock;
  std::unordered_map<std::uint32_t, std::unique_ptr<crdt::OpFactory>> factories;
  PreparedMerge m;
  ChartDocument base(patientId(0));
  auto baseOps = writeSide(base, wl.mergeBase, clock, factories);
  if (!baseOps.isOk()) return baseOps.status();
  for (const Op& op : baseOps.value()) {
    if (Status s = applyExpectingSuccess(m.a, op); !s.isOk()) return s;
    if (Status s = applyExpectingSuccess(m.b, op); !s.isOk()) return s;
  }
  auto aOps = writeSide(m.a, wl.mergeA, clock, factories);
  if (!aOps.isOk()) return aOps.status();
  auto bOps = writeSide(m.b, wl.mergeB, clock, factories);
  if (!bOps.isOk()) return bOps.status();
  m.aOps = crdt::encodeBatch(std::span<const Op>(aOps.value()));
  m.bOps = crdt::encodeBatch(std::span<const Op>(bOps.value()));
  m.opsPerSide = bOps.value().size();
  return m;
}

crdt::Result<MergeRun> mergeOnce(const PreparedMerge& prepared, bool reverse) {
  ChartDocument doc = reverse ? prepared.b : prepared.a;
  const std::string& bytes = reverse ? prepared.aOps : prepared.bOps;
  std::size_t applied = 0;
  Status failure;
  const auto start = std::chrono::steady_clock::now();
  auto ops = crdt::decodeBatch(bytes);
  if (ops.isOk()) {
    for (const Op& op : ops.value()) {
      auto outcome = doc.apply(op);
      if (!outcome.isOk()) {
        failure = outcome.status();
        break;
      }
      if (outcome.value() == crdt::ApplyOutcome::kApplied) ++applied;
    }
  } else {
    failure = ops.status();
  }
  MergeRun run;
  run.ms = msSince(start);
  if (!failure.isOk()) return failure;
  if (applied != prepared.opsPerSide) return Status::invalidArgument("not every merged op applied");

  run.stateHash = doc.stateHash();
  for (std::size_t f = 0; f < kBenchFieldCount; ++f) {
    const crdt::Register& reg = doc.demographic(kBenchFields[f]);
    if (reg.empty()) continue;
    MergedField field;
    field.name = std::string(benchFieldName(f));
    const std::string* shown = textOf(reg.current().value);
    if (shown == nullptr) return Status::invalidArgument("a merged field holds a non-text value");
    field.shown = *shown;
    for (const crdt::RegisterWrite& head : reg.heads()) {
      const std::string* text = textOf(head.value);
      if (text == nullptr) return Status::invalidArgument("a merged head holds a non-text value");
      field.values.push_back(*text);
    }
    std::sort(field.values.begin(), field.values.end());
    run.fields.push_back(std::move(field));
  }
  return run;
}

crdt::Result<long> chartaApplyPeakRssKiB(const WorkloadSize& size) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return Status::invalidArgument("fork failed");
  if (pid == 0) {
    const Workload wl = makeWorkload(size);
    auto enc = encodeApplyWorkload(wl);
    int rc = enc.isOk() && applyOnce(wl, enc.value()).isOk() ? 0 : 1;
    _exit(rc);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return Status::invalidArgument("wait4 failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::invalidArgument("the Charta memory child failed");
  }
  return static_cast<long>(usage.ru_maxrss);
}

}  // namespace charta::bench
