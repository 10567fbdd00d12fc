// Counters and failures of simulated histories.
//
// Counters add up over a suite and are printed at its end; failures are the
// human-readable findings of one history (capped: the first ones matter).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace charta::convergence {

struct Counters {
  std::uint64_t histories = 0;
  std::uint64_t ops = 0;               // ops generated
  std::uint64_t invalidOps = 0;        // of which deliberately invalid
  std::uint64_t rejections = 0;        // rejected ops at the end (per patient document, once)
  std::uint64_t applyCalls = 0;        // ChartDocument::apply calls on every replica
  std::uint64_t held = 0;              // applies answered kHeld
  std::uint64_t duplicates = 0;        // applies answered kDuplicate
  std::uint64_t antiEntropyRounds = 0;
  std::uint64_t partitions = 0;
  std::uint64_t skewClamped = 0;       // remote stamps refused by a replica's clock
  std::uint64_t conflictsSeen = 0;     // open clinical field conflicts at the end
  std::uint64_t noteConflicts = 0;     // notes with competing drafts at the end
  std::uint64_t resolutions = 0;       // conflict resolutions written
  std::uint64_t silentOverwrites = 0;  // unresolved concurrent values not surfaced
  std::uint64_t entries = 0;
  std::uint64_t observations = 0;
  std::uint64_t notes = 0;
  std::uint64_t signatures = 0;
  std::uint64_t addenda = 0;

  void add(const Counters& o);
  std::string summary() const;
};

class Failures {
 public:
  static constexpr std::size_t kMax = 12;

  void add(std::string what) {
    ++m_total;
    if (m_items.size() < kMax) m_items.push_back(std::move(what));
  }
  bool empty() const { return m_total == 0; }
  std::size_t total() const { return m_total; }
  const std::vector<std::string>& items() const { return m_items; }
  // One failure a line; "... and N more" when capped.
  std::string joined() const;

 private:
  std::vector<std::string> m_items;
  std::size_t m_total = 0;
};

}  // namespace charta::convergence
