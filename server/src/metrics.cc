#include "metrics.h"

#include <cstdio>

namespace charta::server {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void Metrics::request(const std::string& route, int status) {
  std::lock_guard lock(m_mu);
  ++m_requests[{route, status}];
}

void Metrics::syncLatency(const std::string& kind, double seconds) {
  std::lock_guard lock(m_mu);
  Histogram& h = m_latency[kind];
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::error(const std::string& kind) {
  std::lock_guard lock(m_mu);
  ++m_errors[kind];
}

void Metrics::activity(Activity kind, std::int64_t n, std::int64_t nowMs) {
  const std::int64_t start = nowMs - nowMs % kHourMs;
  std::lock_guard lock(m_mu);
  ActivityHour& h = m_hours[static_cast<std::size_t>((start / kHourMs) % 24)];
  if (h.start != start) h = ActivityHour{start};
  switch (kind) {
    case Activity::kPush: h.pushes += n; break;
    case Activity::kPull: h.pulls += n; break;
    case Activity::kOpsIn: h.opsIn += n; break;
    case Activity::kOpsOut: h.opsOut += n; break;
    case Activity::kError: h.errors += n; break;
  }
}

std::vector<ActivityHour> Metrics::lastDay(std::int64_t nowMs) {
  const std::int64_t current = nowMs - nowMs % kHourMs;
  std::vector<ActivityHour> out;
  out.reserve(24);
  std::lock_guard lock(m_mu);
  for (std::int64_t start = current - 23 * kHourMs; start <= current; start += kHourMs) {
    const ActivityHour& h = m_hours[static_cast<std::size_t>((start / kHourMs) % 24)];
    out.push_back(h.start == start ? h : ActivityHour{start});
  }
  return out;
}

std::string Metrics::render(const std::map<std::string, std::pair<std::string, double>>& gauges) {
  std::string out;
  std::lock_guard lock(m_mu);
  out += "# HELP charta_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE charta_http_requests_total counter\n";
  for (const auto& [key, n] : m_requests) {
    out += "charta_http_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP charta_ops_stored_total Ops stored by this process.\n# TYPE charta_ops_stored_total counter\n";
  out += "charta_ops_stored_total " + std::to_string(m_opsStored.load()) + "\n";
  out += "# HELP charta_ops_rejected_total Ops refused with a reason by this process.\n"
         "# TYPE charta_ops_rejected_total counter\n";
  out += "charta_ops_rejected_total " + std::to_string(m_opsRejected.load()) + "\n";
  out += "# HELP charta_ops_future_clock_total Ops stored with a clock beyond the future bound.\n"
         "# TYPE charta_ops_future_clock_total counter\n";
  out += "charta_ops_future_clock_total " + std::to_string(m_opsFlagged.load()) + "\n";
  out += "# HELP charta_device_audit_events_total Audit events uploaded by devices and stored by this process.\n"
         "# TYPE charta_device_audit_events_total counter\n";
  out += "charta_device_audit_events_total " + std::to_string(m_deviceAuditStored.load()) + "\n";
  out += "# HELP charta_errors_total Errors by kind (storage, storage_full, internal, client).\n# TYPE charta_errors_total counter\n";
  for (const auto& [kind, n] : m_errors) {
    out += "charta_errors_total{kind=\"" + kind + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP charta_sync_latency_seconds Time to answer a push or a pull.\n"
         "# TYPE charta_sync_latency_seconds histogram\n";
  for (const auto& [kind, h] : m_latency) {
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out += "charta_sync_latency_seconds_bucket{kind=\"" + kind + "\",le=\"" + number(kLatencyBuckets[i]) +
             "\"} " + std::to_string(h.buckets[i]) + "\n";
    }
    out += "charta_sync_latency_seconds_bucket{kind=\"" + kind + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "charta_sync_latency_seconds_sum{kind=\"" + kind + "\"} " + number(h.sum) + "\n";
    out += "charta_sync_latency_seconds_count{kind=\"" + kind + "\"} " + std::to_string(h.count) + "\n";
  }
  for (const auto& [name, helpValue] : gauges) {
    out += "# HELP " + name + " " + helpValue.first + "\n# TYPE " + name + " gauge\n";
    out += name + " " + number(helpValue.second) + "\n";
  }
  return out;
}

}  // namespace charta::server
