// The benchmark workload: the exact sequence of field writes every system runs.
//
// Two workloads, both generated from a fixed seed so every run is the same:
//  - apply: `writes` writes from `replicas` replicas (ids 1..replicas) to
//    `patients` patient documents, each a short text value for one of a handful
//    of demographics fields;
//  - merge: one patient document with a common base (one write per field by
//    replica 3), then replica 1 (side A) and replica 2 (side B) each make
//    `mergeWrites` writes concurrently.
// A write never sets a field to the value its writer sees there already (a
// no-op write that some systems drop without producing a change).
//
// The C++ side writes the workload to a file (writeWorkloadFile) that the Node
// peers read, so all three systems run exactly the same writes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/schema.h"
#include "charta/crdt/status.h"

namespace charta::bench {

struct WorkloadSize {
  std::size_t writes = 200'000;
  std::size_t replicas = 50;
  std::size_t patients = 2'000;
  std::size_t mergeWrites = 20'000;
};

// The full size, or 1/20 of it for a smoke test (same shape, fewer ops).
WorkloadSize fullSize();
WorkloadSize quickSize();

struct Write {
  std::uint32_t replica = 0;  // 1-based
  std::uint32_t patient = 0;  // index into the patient ids
  std::uint32_t field = 0;    // index into kBenchFields
  std::uint64_t timeMs = 0;   // wall clock of the writing device
  std::string value;
};

struct Workload {
  WorkloadSize size;
  std::vector<Write> apply;
  std::vector<Write> mergeBase;
  std::vector<Write> mergeA;
  std::vector<Write> mergeB;
};

// The demographics fields the workload writes (all text).
inline constexpr crdt::FieldId kBenchFields[] = {
    crdt::field::kFamilyName, crdt::field::kGivenNames, crdt::field::kBirthDate, crdt::field::kSex,
    crdt::field::kAddress,    crdt::field::kPhone,      crdt::field::kLanguage,
};
inline constexpr std::size_t kBenchFieldCount = std::size(kBenchFields);

// The schema name of kBenchFields[index] ("familyName", ...).
std::string_view benchFieldName(std::size_t index);

// "patient-<index>"; the merge workload uses patient 0.
std::string patientId(std::uint32_t index);
// "nurse-<replica>": the user id a replica's ops carry.
std::string userOf(std::uint32_t replica);

Workload makeWorkload(const WorkloadSize& size);

// Writes the workload as tab-separated lines (format at the top of
// node/peers.mjs). Returns a non-ok status when the file cannot be written.
crdt::Status writeWorkloadFile(const Workload& wl, const std::string& path);

// FNV-1a 64 over "patient\tfield\tvalue\n" for every (patient, field) that
// has a value; call add() in patient then field order, skipping unset fields.
// node/peers.mjs computes the same digest.
class StateDigest {
 public:
  void add(std::uint32_t patient, std::size_t field, std::string_view value);
  std::string hex() const;

 private:
  std::uint64_t m_hash = 0xcbf29ce484222325ull;
};

}  // namespace charta::bench
