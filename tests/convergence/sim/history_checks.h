// The end-of-history checks of the convergence suite.
//
// After Simulation::settle(): op ids and stamps of each replica in sequence;
// and for every patient:
//  - every replica holds identical canonicalState(), stateHash() and rejected();
//  - nothing is lost: nothing held, every op of the ledger applied or rejected;
//  - the rejected ops are exactly the deliberately invalid ones;
//  - the document matches the ReferenceModel built from the valid ops (entries
//    added concurrently all exist, registers' heads, every unresolved clinical
//    conflict listed: a missing one is a "silent overwrite").
// Findings go to the simulation's Failures, counts to its Counters.
#pragma once

#include <string>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "report.h"
#include "simulation.h"

namespace charta::convergence {

void checkHistory(Simulation& sim);

// Each replica numbers its ops 1, 2, 3... and stamps them strictly increasing
// (whatever its wall clock did), across patients.
void checkOpIdentities(const Ledger& ledger, const std::string& label, Failures& failures);

// Identical canonicalState(), stateHash(), rejected(), seen() and latestHlc()
// on every document.
void checkConverged(const std::vector<const crdt::ChartDocument*>& docs, const std::string& label,
                    Failures& failures);

// Nothing held, nothing missing: every op of `ops` applied or rejected, and
// appliedCount() + rejected().size() == ops.size().
void checkNothingLost(const crdt::ChartDocument& doc, const std::vector<const crdt::Op*>& ops,
                      const std::string& label, Failures& failures);

// "seed 42: <failures>" for a QtTest message; empty when the history passed.
std::string failureReport(Simulation& sim);

}  // namespace charta::convergence
