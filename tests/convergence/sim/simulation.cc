#include "simulation.h"

#include <algorithm>
#include <set>

#include "charta/crdt/op_codec.h"

namespace charta::convergence {

namespace {

std::size_t between(Rng& rng, std::size_t lo, std::size_t hi) { return lo + rng.index(hi >= lo ? hi - lo + 1 : 1); }

std::string outcomeName(const crdt::Result<crdt::ApplyOutcome>& r) {
  if (!r.isOk()) return r.status().toString();
  switch (r.value()) {
    case crdt::ApplyOutcome::kApplied: return "applied";
    case crdt::ApplyOutcome::kDuplicate: return "duplicate";
    case crdt::ApplyOutcome::kHeld: return "held";
  }
  return "?";
}

constexpr std::int64_t kMinute = 60 * 1000;
constexpr std::int64_t kHour = 60 * kMinute;

}  // namespace

std::int64_t Simulation::randomOffsetMs() {
  if (!m_cfg.clockSkew) return 0;
  const double r = m_rng.unit();
  if (r < 0.5) return m_rng.range(-2000, 2000);                // NTP-synced
  if (r < 0.8) return m_rng.range(-30 * kMinute, 30 * kMinute);  // sloppy
  return m_rng.range(-6 * kHour, 6 * kHour);                    // wrong time zone, dead battery
}

Simulation::Simulation(std::uint64_t seed, const HistoryConfig& cfg)
    : m_seed(seed),
      m_cfg(cfg),
      m_rng(seed),
      m_network(between(m_rng, cfg.minReplicas, cfg.maxReplicas)),
      m_generator(m_cfg, m_rng) {
  const std::size_t patients = between(m_rng, cfg.minPatients, cfg.maxPatients);
  for (std::size_t p = 0; p < patients; ++p) m_patients.push_back("patient-" + std::to_string(p + 1));

  const std::size_t n = m_network.size();
  // Distinct replica ids, not in creation order (ids break ties after clocks).
  std::set<std::uint64_t> ids;
  while (ids.size() < n) ids.insert(1 + m_rng.below(999));
  std::vector<std::uint64_t> order(ids.begin(), ids.end());
  m_rng.shuffle(order);

  std::vector<std::vector<std::string>> users(n);
  for (std::size_t i = 0; i < n; ++i) {
    users[i].push_back("nurse-" + std::to_string(i));
    if (m_rng.chance(0.4)) users[i].push_back("nurse-" + std::to_string(i) + "b");
    if (m_rng.chance(0.2)) users[i].push_back("clerk-" + std::to_string(i));
  }
  // One nurse works on two or three devices: her notes can race themselves.
  const std::size_t roams = std::min<std::size_t>(n, 2 + m_rng.index(2));
  std::vector<std::size_t> devices(n);
  for (std::size_t i = 0; i < n; ++i) devices[i] = i;
  m_rng.shuffle(devices);
  for (std::size_t k = 0; k < roams; ++k) users[devices[k]].push_back("nurse-roaming");

  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t offset = randomOffsetMs();
    std::int64_t drift = 0;
    if (m_cfg.clockSkew) drift = m_rng.chance(0.1) ? m_rng.range(-50000, 50000) : m_rng.range(-500, 500);
    m_replicas.push_back(std::make_unique<Replica>(crdt::ReplicaId{order[i]}, m_time, offset, drift,
                                                   std::move(users[i]), m_patients));
  }
}

std::vector<const crdt::Op*> Simulation::opsOf(const std::string& patient) const {
  std::vector<const crdt::Op*> out;
  for (const auto& e : m_ledger.entries())
    if (e.op.patient == patient) out.push_back(&e.op);
  return out;
}

void Simulation::runSteps() {
  const std::size_t steps = between(m_rng, m_cfg.minSteps, m_cfg.maxSteps);
  const std::vector<double> weights{60, 25, m_cfg.antiEntropy ? 6.0 : 0.0, m_cfg.partitions ? 3.0 : 0.0,
                                    m_cfg.clockSkew ? 1.0 : 0.0};
  for (std::size_t step = 0; step < steps; ++step) {
    m_network.tick();
    m_time.advance(static_cast<std::uint64_t>(m_rng.range(1000, 15 * kMinute)));
    switch (m_rng.weighted(weights)) {
      case 0: act(); break;
      case 1:
        m_network.deliverSome(between(m_rng, 1, 8), m_cfg, m_rng,
                              [this](std::size_t to, std::size_t op) { deliver(to, op); });
        break;
      case 2: {
        const std::size_t a = m_rng.index(m_replicas.size());
        const std::size_t b = m_rng.index(m_replicas.size());
        if (a != b && m_network.connected(a, b)) antiEntropy(a, b);
        break;
      }
      case 3:
        if (m_network.partitioned() && m_rng.chance(0.6)) m_network.heal();
        else m_network.split(m_rng);
        break;
      default: jumpClock(); break;
    }
  }
}

void Simulation::act() {
  const std::size_t r = m_rng.index(m_replicas.size());
  Replica& replica = *m_replicas[r];
  const std::string& patient = m_rng.pick(m_patients);
  const std::string& user = m_rng.pick(replica.users());
  ActionContext ctx{replica, replica.doc(patient), user, static_cast<std::int64_t>(m_time.nowMs)};
  auto action = m_generator.next(ctx);
  if (!action) return;

  const auto result = replica.commitLocal(action->op);
  ++m_counters.applyCalls;
  ++m_counters.ops;
  if (action->expectRejected) ++m_counters.invalidOps;
  if (action->action.rfind("resolve ", 0) == 0) ++m_counters.resolutions;
  const bool applied = result.isOk() && result.value() == crdt::ApplyOutcome::kApplied;
  const bool rejected = !result.isOk() && result.status().code() == crdt::Status::Code::kRejected;
  if (action->expectRejected ? !rejected : !applied) {
    m_failures.add("seed " + std::to_string(m_seed) + ": " + action->action + " as " + crdt::toString(action->op.id) +
                   " by " + action->op.author + " on its own replica: " + outcomeName(result) +
                   (action->expectRejected ? " (expected a rejection)" : " (expected applied)"));
  }
  const std::size_t index = m_ledger.add(LedgerEntry{action->op, r, action->expectRejected, action->action});
  m_network.broadcast(r, index, m_cfg, m_rng);
}

void Simulation::deliver(std::size_t to, std::size_t opIndex) {
  const crdt::Op& op = m_ledger.at(opIndex).op;
  if (!m_cfg.wireCodec) return deliverOp(to, op);
  const auto decoded = crdt::decodeOp(crdt::encodeOp(op));
  if (!decoded.isOk() || !(decoded.value() == op)) {
    m_failures.add("seed " + std::to_string(m_seed) + ": op " + crdt::toString(op.id) + " does not survive the codec: " +
                   (decoded.isOk() ? std::string("decodes to another op") : decoded.status().toString()));
    return deliverOp(to, op);
  }
  deliverOp(to, decoded.value());
}

void Simulation::deliverOp(std::size_t to, const crdt::Op& op) {
  const auto result = m_replicas[to]->receive(op);
  ++m_counters.applyCalls;
  if (!result.isOk()) {
    if (result.status().code() != crdt::Status::Code::kRejected)
      m_failures.add("seed " + std::to_string(m_seed) + ": delivering " + crdt::toString(op.id) + ": " +
                     result.status().toString());
    return;
  }
  if (result.value() == crdt::ApplyOutcome::kHeld) ++m_counters.held;
  if (result.value() == crdt::ApplyOutcome::kDuplicate) ++m_counters.duplicates;
}

void Simulation::antiEntropy(std::size_t a, std::size_t b) {
  ++m_counters.antiEntropyRounds;
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    std::vector<std::size_t> missing;
    for (const crdt::Op& op : m_replicas[from]->log())
      if (!m_replicas[to]->has(op.id)) missing.push_back(m_ledger.indexOf(op.id));
    if (m_rng.chance(0.5)) m_rng.shuffle(missing);  // otherwise in the sender's log order
    if (!m_cfg.wireCodec) {
      for (std::size_t i : missing) deliver(to, i);
      continue;
    }
    // One batch on the wire.
    std::vector<crdt::Op> batch;
    for (std::size_t i : missing) batch.push_back(m_ledger.at(i).op);
    const auto decoded = crdt::decodeBatch(crdt::encodeBatch(batch));
    if (!decoded.isOk() || decoded.value() != batch) {
      m_failures.add("seed " + std::to_string(m_seed) + ": a batch of " + std::to_string(batch.size()) +
                     " ops does not survive the codec: " +
                     (decoded.isOk() ? std::string("decodes to other ops") : decoded.status().toString()));
      for (const crdt::Op& op : batch) deliverOp(to, op);
      continue;
    }
    for (const crdt::Op& op : decoded.value()) deliverOp(to, op);
  }
}

void Simulation::jumpClock() {
  Replica& r = *m_replicas[m_rng.index(m_replicas.size())];
  r.clock().jump(randomOffsetMs());
}

void Simulation::settle() {
  m_network.drain(m_cfg, m_rng, [this](std::size_t to, std::size_t op) { deliver(to, op); });
  // Full sync: every replica gets every op it lacks, in random order.
  std::vector<std::size_t> order(m_replicas.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  m_rng.shuffle(order);
  for (std::size_t r : order) {
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < m_ledger.size(); ++i)
      if (!m_replicas[r]->has(m_ledger.at(i).op.id)) missing.push_back(i);
    m_rng.shuffle(missing);
    for (std::size_t i : missing) deliver(r, i);
  }
  // A burst of duplicates: nothing may change.
  if (m_ledger.size() > 0) {
    for (std::size_t k = 0; k < 2 * m_replicas.size(); ++k)
      deliver(m_rng.index(m_replicas.size()), m_rng.index(m_ledger.size()));
  }
  m_counters.partitions += m_network.stats().partitions;
  for (const auto& r : m_replicas) m_counters.skewClamped += r->skewClamped();
}

}  // namespace charta::convergence
