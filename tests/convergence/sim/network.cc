#include "network.h"

#include <algorithm>

namespace charta::convergence {

void Network::enqueue(std::size_t from, std::size_t to, std::size_t op, const HistoryConfig& cfg, Rng& rng) {
  const std::uint64_t delay = cfg.maxDelaySteps == 0 ? 0 : rng.below(cfg.maxDelaySteps + 1);
  m_inFlight.push_back(Message{from, to, op, m_step + delay});
}

void Network::broadcast(std::size_t from, std::size_t op, const HistoryConfig& cfg, Rng& rng) {
  for (std::size_t to = 0; to < m_group.size(); ++to) {
    if (to == from) continue;
    ++m_stats.sent;
    if (rng.chance(cfg.dropRate)) {
      ++m_stats.dropped;
      continue;
    }
    enqueue(from, to, op, cfg, rng);
  }
}

std::size_t Network::deliverSome(std::size_t n, const HistoryConfig& cfg, Rng& rng, const Sink& sink) {
  std::size_t done = 0;
  while (done < n) {
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < m_inFlight.size(); ++i) {
      const Message& m = m_inFlight[i];
      if (m.due <= m_step && connected(m.from, m.to)) ready.push_back(i);
    }
    if (ready.empty()) break;
    // Deliver a random batch of the ready ones (at most what is left of n).
    rng.shuffle(ready);
    ready.resize(std::min(ready.size(), n - done));
    std::sort(ready.begin(), ready.end(), std::greater<>());
    std::vector<Message> batch;
    for (std::size_t i : ready) {
      batch.push_back(m_inFlight[i]);
      m_inFlight[i] = m_inFlight.back();
      m_inFlight.pop_back();
    }
    rng.shuffle(batch);
    for (const Message& m : batch) {
      ++m_stats.delivered;
      ++done;
      if (rng.chance(cfg.duplicateRate)) {
        ++m_stats.duplicated;
        enqueue(m.from, m.to, m.op, cfg, rng);
      }
      sink(m.to, m.op);
    }
  }
  return done;
}

void Network::drain(const HistoryConfig& cfg, Rng& rng, const Sink& sink) {
  heal();
  while (!m_inFlight.empty()) {
    m_step += cfg.maxDelaySteps + 1;  // everything is due
    HistoryConfig noMoreDuplicates = cfg;
    noMoreDuplicates.duplicateRate = cfg.duplicateRate / 2;  // terminates
    deliverSome(m_inFlight.size(), noMoreDuplicates, rng, sink);
  }
}

void Network::split(Rng& rng) {
  const std::size_t groups = 2 + rng.index(2);
  for (auto& g : m_group) g = rng.index(groups);
  // Make sure it is a real split: replica 0 alone in its group otherwise.
  if (!partitioned()) m_group[0] = (m_group[0] + 1) % groups;
  ++m_stats.partitions;
}

void Network::heal() { std::fill(m_group.begin(), m_group.end(), 0); }

bool Network::partitioned() const {
  return std::any_of(m_group.begin(), m_group.end(), [&](std::size_t g) { return g != m_group.front(); });
}

}  // namespace charta::convergence
