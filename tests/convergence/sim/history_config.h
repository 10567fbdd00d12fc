// HistoryConfig: the shape of one simulated history.
//
// The defaults are the normal suite's: small histories, many of them. Property
// tests narrow the action mix to one CRDT; long campaigns can raise the sizes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace charta::convergence {

// Relative weights of the actions a user takes (0 turns one off).
struct ActionWeights {
  double writeDemographic = 6;
  double writeDisplayPreference = 2;
  double addEntry = 8;
  double writeEntryField = 6;
  double setStatus = 5;
  double resolveConflict = 4;
  double appendObservation = 6;
  double markObservationError = 1.5;
  double startNote = 2.5;
  double editNote = 3;
  double signNote = 2;
  double addAddendum = 1.5;
};

struct HistoryConfig {
  std::size_t minReplicas = 5;
  std::size_t maxReplicas = 7;
  std::size_t minPatients = 2;
  std::size_t maxPatients = 3;
  std::size_t minSteps = 60;
  std::size_t maxSteps = 220;

  ActionWeights actions;
  // Probability that an action is replaced by a deliberately invalid op.
  double invalidRate = 0.04;

  // Network behaviour.
  double dropRate = 0.05;       // a message is lost (anti-entropy recovers it)
  double duplicateRate = 0.08;  // a delivered message is delivered again later
  std::uint64_t maxDelaySteps = 12;
  bool partitions = true;
  bool antiEntropy = true;
  bool clockSkew = true;
  // Ops cross the network encoded (op codec, single ops and anti-entropy
  // batches) and are decoded by the receiver, as on the wire.
  bool wireCodec = true;

  // Cross-checks that are costly: the reference model over every replica
  // (otherwise replica 0 only; the others are compared by canonical state).
  bool modelOnEveryReplica = false;
};

}  // namespace charta::convergence
