#include "run_history.h"

#include "flavours.h"
#include "history_checks.h"
#include "op_text.h"
#include "simulation.h"

namespace charta::convergence {

HistoryOutcome runHistory(std::uint64_t seed, Counters& total, bool dumpOps) {
  Simulation sim(seed, configForSeed(seed));
  sim.runSteps();
  sim.settle();
  checkHistory(sim);
  total.add(sim.counters());

  HistoryOutcome out;
  out.ok = sim.failures().empty();
  out.report = failureReport(sim);
  if (!out.ok) out.report.insert(0, "[" + std::string(flavourName(seed)) + "] ");
  if (dumpOps) {
    out.report += "ops of seed " + std::to_string(seed) + " (" + std::to_string(sim.ledger().size()) + "):\n";
    for (const auto& e : sim.ledger().entries()) {
      out.report += "  " + describeOp(e.op) + " [" + e.op.patient + ", " + e.action + "]\n";
    }
  }
  return out;
}

}  // namespace charta::convergence
