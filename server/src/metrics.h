#pragma once

// The server's Prometheus metrics: request counts by route and status, ops
// stored, device audit events stored, errors, and a sync latency histogram,
// kept in process (atomics and a mutex per family); gauges that live in the
// store (devices, open conflicts) are read when /metrics is scraped. Text
// exposition format 0.0.4.
//
// Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace charta::server {

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  void request(const std::string& route, int status);
  void syncLatency(const std::string& kind /* push or pull */, double seconds);
  void opsStored(std::int64_t n) { m_opsStored += n; }
  void opsRejected(std::int64_t n) { m_opsRejected += n; }
  void opsFlagged(std::int64_t n) { m_opsFlagged += n; }
  void deviceAuditStored(std::int64_t n) { m_deviceAuditStored += n; }
  void error(const std::string& kind);

  // The exposition text; `gauges` are name -> value lines added as gauges.
  std::string render(const std::map<std::string, std::pair<std::string, double>>& gauges);

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::mutex m_mu;
  std::map<std::pair<std::string, int>, std::uint64_t> m_requests;
  std::map<std::string, Histogram> m_latency;
  std::map<std::string, std::uint64_t> m_errors;
  std::atomic<std::int64_t> m_opsStored{0};
  std::atomic<std::int64_t> m_opsRejected{0};
  std::atomic<std::int64_t> m_opsFlagged{0};
  std::atomic<std::int64_t> m_deviceAuditStored{0};
};

}  // namespace charta::server
