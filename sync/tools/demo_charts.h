// Hand-made demo charts for a demo clinic: realistic (invented) patients for
// demonstrations, screenshots and benchmarks, written on a replica like any
// local edit, so they sync with `charta-sim sync`.
//
// The clinic has three kinds of patients, in a fixed mix:
//   - school children aged 4 to 17 (school visits, growth vitals, an
//     immunisation history after the example schedule of docs/SCHEDULE.md
//     with CVX codes; about a third miss one dose, so something is overdue);
//   - working adults seen at the workplace clinic (blood pressure checks,
//     some with hypertension, asthma or hyperlipidaemia);
//   - elderly patients visited at home every few weeks, with chronic problems
//     (hypertension, type 2 diabetes, COPD, heart failure), their
//     medications (some on hold or stopped, with the reason), vital signs that
//     drift plausibly over the years and laboratory results (HbA1c,
//     creatinine, potassium; some abnormal).
// Every patient has demographics, an MRN (urn:charta:mrn), allergies (some
// highly critical), "no known allergies" or nothing recorded, and notes
// (signed ones, an addendum, now and then an open draft). Entries charted
// during a visit carry the visit's op id; vital signs use the LOINC codes and
// UCUM units of crdt::vitalSigns().
//
// The second patient (when there are two or more) is always Anna Lena Müller,
// born 1984-03-12: a new patient "Anna Muller" with that birth date is a
// likely duplicate, for demonstrating the check.
//
// Deterministic: the same seed, counts and today give the same charts (names,
// dates, values, op counts); only the patient ids (random) and op ids (the
// replica's) differ. Each patient is written with one Replica::editBatch.
//
// Thread-safety: none; the replica must be unlocked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "charta/sync/replica.h"

namespace charta::sync {

struct DemoOptions {
  std::size_t patients = 24;
  int years = 5;  // visits and results over the last `years` years (1 to 50)
  std::uint64_t seed = 1;
  std::string today;  // YYYY-MM-DD; empty: the system date (UTC)
};

class DemoCharts {
 public:
  // Writes options.patients new patients on the replica and returns their
  // ids in creation order. kInvalidArgument for a malformed today or years
  // out of range; the replica's error otherwise (patients written before it
  // stay).
  static Result<std::vector<std::string>> create(Replica& replica, const DemoOptions& options);
};

}  // namespace charta::sync
