// Simulation: one seeded history of several replicas charting offline.
//
// Seeded once, it builds 5+ replicas (each with its own ReplicaId, skewed and
// drifting clock, users; one user roams between two or three devices), two or
// three patients, and then runs random steps: users act, the network delivers
// (late, out of order, twice, or not at all), partitions split and heal,
// clocks jump, and pairs of replicas run anti-entropy. settle() then heals
// everything and gives every replica every op, in random order, with
// duplicates. The same seed and config replay the same history exactly.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "action_generator.h"
#include "history_config.h"
#include "ledger.h"
#include "network.h"
#include "replica.h"
#include "report.h"
#include "rng.h"
#include "sim_clock.h"

namespace charta::convergence {

class Simulation {
 public:
  Simulation(std::uint64_t seed, const HistoryConfig& cfg);

  // The random phase (a random number of steps within the config's bounds).
  void runSteps();
  // Heal, drain, full sync, a burst of duplicates. After it every replica has
  // been given every op of the ledger.
  void settle();

  std::uint64_t seed() const { return m_seed; }
  const HistoryConfig& config() const { return m_cfg; }
  const std::vector<std::string>& patients() const { return m_patients; }
  const std::vector<std::unique_ptr<Replica>>& replicas() const { return m_replicas; }
  const Ledger& ledger() const { return m_ledger; }
  Counters& counters() { return m_counters; }
  Failures& failures() { return m_failures; }
  Rng& rng() { return m_rng; }

  // The ledger's ops of one patient, in generation order.
  std::vector<const crdt::Op*> opsOf(const std::string& patient) const;

 private:
  void act();
  void deliver(std::size_t to, std::size_t opIndex);
  void deliverOp(std::size_t to, const crdt::Op& op);
  void antiEntropy(std::size_t a, std::size_t b);
  void jumpClock();
  std::int64_t randomOffsetMs();

  std::uint64_t m_seed;
  HistoryConfig m_cfg;
  Rng m_rng;
  SimTime m_time;
  std::vector<std::string> m_patients;
  std::vector<std::unique_ptr<Replica>> m_replicas;
  Network m_network;
  Ledger m_ledger;
  ActionGenerator m_generator;
  Counters m_counters;
  Failures m_failures;
};

}  // namespace charta::convergence
