#pragma once

// The server's Prometheus metrics: request counts by route and status, ops
// stored, device audit events stored, errors, and a sync latency histogram,
// kept in process (atomics and a mutex per family); gauges that live in the
// store (devices, open conflicts) are read when /metrics is scraped. Text
// exposition format 0.0.4. Also the last 24 hours of sync activity by hour
// (requests, ops in and out, errors) for the console's plot: in process, so it
// starts empty when the server starts.
//
// Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace charta::server {

// One hour of sync activity.
struct ActivityHour {
  std::int64_t start = 0;  // ms since the epoch, a whole hour
  std::int64_t pushes = 0;
  std::int64_t pulls = 0;
  std::int64_t opsIn = 0;   // ops stored from pushes
  std::int64_t opsOut = 0;  // ops sent in pulls
  std::int64_t errors = 0;  // sync requests answered with an error, and errors devices reported
};

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

  // Activity of the hour holding `nowMs`.
  enum class Activity { kPush, kPull, kOpsIn, kOpsOut, kError };
  void activity(Activity kind, std::int64_t n, std::int64_t nowMs);
  // The 24 hours up to and including the one holding `nowMs`, oldest first;
  // hours with no activity (or before the server started) are zeros.
  std::vector<ActivityHour> lastDay(std::int64_t nowMs);

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
  static constexpr std::int64_t kHourMs = 3600 * 1000;
  std::array<ActivityHour, 24> m_hours{};  // by hour number % 24
  std::atomic<std::int64_t> m_opsStored{0};
  std::atomic<std::int64_t> m_opsRejected{0};
  std::atomic<std::int64_t> m_opsFlagged{0};
  std::atomic<std::int64_t> m_deviceAuditStored{0};
};

}  // namespace charta::server
