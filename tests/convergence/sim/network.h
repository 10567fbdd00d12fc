// Network: a lossy, reordering, duplicating network between replicas.
//
// Every message carries one op (by its index in the ledger) from one replica to
// another. Messages wait in flight for a random delay, are delivered in random
// order, are sometimes lost or delivered twice, and never cross a partition:
// while replicas sit in different groups, messages between them stay queued
// until the partition heals. Lost messages are what anti-entropy is for.
//
// Thread-safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "history_config.h"
#include "rng.h"

namespace charta::convergence {

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t partitions = 0;
};

class Network {
 public:
  // Called for each delivery: (destination replica, ledger index of the op).
  using Sink = std::function<void(std::size_t to, std::size_t op)>;

  explicit Network(std::size_t replicas) : m_group(replicas, 0) {}

  // Sends a new op from one replica to every other one.
  void broadcast(std::size_t from, std::size_t op, const HistoryConfig& cfg, Rng& rng);
  // Delivers up to n deliverable messages, chosen at random; returns how many.
  std::size_t deliverSome(std::size_t n, const HistoryConfig& cfg, Rng& rng, const Sink& sink);
  // Heals every partition and delivers everything in flight, in random order
  // (duplicates included, losses still possible: anti-entropy follows).
  void drain(const HistoryConfig& cfg, Rng& rng, const Sink& sink);

  // Advances the network's clock by one step (delays are counted in steps).
  void tick() { ++m_step; }

  // Splits the replicas into 2 or 3 random groups.
  void split(Rng& rng);
  void heal();
  bool partitioned() const;
  bool connected(std::size_t a, std::size_t b) const { return m_group[a] == m_group[b]; }

  std::size_t size() const { return m_group.size(); }
  std::size_t inFlight() const { return m_inFlight.size(); }
  const NetworkStats& stats() const { return m_stats; }

 private:
  struct Message {
    std::size_t from;
    std::size_t to;
    std::size_t op;
    std::uint64_t due;
  };
  void enqueue(std::size_t from, std::size_t to, std::size_t op, const HistoryConfig& cfg, Rng& rng);

  std::vector<std::size_t> m_group;
  std::vector<Message> m_inFlight;
  std::uint64_t m_step = 0;
  NetworkStats m_stats;
};

}  // namespace charta::convergence
