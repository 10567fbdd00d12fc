// Random but valid clinical edits on a replica, for charta-sim, the fault
// suites and the benchmark: demographics (phone and address are written on
// every device, so concurrent edits make real conflicts), allergies and their
// severity, medications moving forward through their statuses, vital signs,
// and notes that are drafted, edited, signed and given addenda. Every op is
// made with the replica's factory from the chart as it stands, so the chart
// accepts it (and so does every other replica).
//
// Thread-safety: none; one editor per thread.
#pragma once

#include <cstdint>
#include <string>

#include "charta/sync/replica.h"

namespace charta::sync {

class RandomEditor {
 public:
  // Keeps at least `minPatients` patients on the replica (creating new ones
  // with names and birth dates as needed).
  RandomEditor(Replica& replica, std::uint64_t seed, std::size_t minPatients = 4);

  // One edit; its op (already applied, stored and in the outbox).
  Result<crdt::Op> editOnce();
  // A new patient with a name, birth date, sex and identifier (several ops);
  // returns its id. Canary text, when given, goes into the family name.
  Result<std::string> createPatient(const std::string& familyName = {});

 private:
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  const char* pick(std::initializer_list<const char*> options);

  Replica& m_replica;
  std::uint64_t m_state;
  std::size_t m_minPatients;
};

}  // namespace charta::sync
