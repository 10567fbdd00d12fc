// Merge laws of ChartDocument, over many seeded random histories.
//
// A "state" is a document together with the ops it was given (held ones
// included); merge(a, b) applies b's ops, shuffled, to a copy of a (documents
// are values). The laws, compared by canonicalState(), heldCount(),
// missingDependencies() and rejected():
//   commutativity  merge(a, b) == merge(b, a)
//   associativity  merge(merge(a, b), c) == merge(a, merge(b, c))
//   idempotence    merge(a, a) == a, byte for byte, every apply a duplicate;
//                  merge(merge(a, b), b) == merge(a, b)
//   identity       a fresh document given a's ops in another order == a
// The states are the replicas' documents in the middle of a simulated history
// (partitions, losses: realistic gaps) and random subsets of its ops.
#include <QtTest>

#include <string>
#include <unordered_set>
#include <vector>

#include "sim/flavours.h"
#include "sim/replay.h"
#include "sim/simulation.h"
#include "test_env.h"

namespace cv = charta::convergence;
namespace crdt = charta::crdt;

namespace {

struct State {
  crdt::ChartDocument doc;
  std::vector<const crdt::Op*> ops;  // every op given, once each
};

State merge(const State& a, const State& b, cv::Rng& rng) {
  State out = a;
  std::vector<const crdt::Op*> incoming = b.ops;
  rng.shuffle(incoming);
  cv::replay(out.doc, incoming, rng, 0.1);
  std::unordered_set<crdt::OpId> have;
  for (const crdt::Op* op : out.ops) have.insert(op->id);
  for (const crdt::Op* op : incoming)
    if (have.insert(op->id).second) out.ops.push_back(op);
  return out;
}

// Empty when equal, else what differs.
std::string difference(const State& a, const State& b) {
  if (a.doc.canonicalState() != b.doc.canonicalState()) return "canonical states differ";
  if (a.doc.stateHash() != b.doc.stateHash()) return "state hashes differ";
  if (a.doc.heldCount() != b.doc.heldCount()) return "held counts differ";
  if (a.doc.missingDependencies() != b.doc.missingDependencies()) return "missing dependencies differ";
  if (a.doc.rejected() != b.doc.rejected()) return "rejected sets differ";
  if (!(a.doc.seen() == b.doc.seen()) || a.doc.latestHlc() != b.doc.latestHlc()) return "seen() or latestHlc() differ";
  if (a.doc.conflicts().size() != b.doc.conflicts().size()) return "conflict listings differ";
  return {};
}

}  // namespace

class MergeLawsTest : public QObject {
  Q_OBJECT

 private slots:
  void laws();

 private:
  void checkLaws(std::uint64_t seed);
  std::uint64_t m_triples = 0;
  std::uint64_t m_mergedOps = 0;
};

void MergeLawsTest::checkLaws(std::uint64_t seed) {
  cv::HistoryConfig cfg = cv::configForSeed(seed);
  cfg.maxSteps = cfg.minSteps + 40;
  cv::Simulation sim(seed, cfg);
  sim.runSteps();  // not settled: the replicas hold different, gappy sets
  cv::Rng& rng = sim.rng();
  const std::string tag = "seed " + std::to_string(seed);

  for (const std::string& patient : sim.patients()) {
    std::vector<State> states;
    for (const auto& r : sim.replicas()) {
      State s{r->doc(patient), {}};
      for (const crdt::Op& op : r->log())
        if (op.patient == patient) s.ops.push_back(&op);
      states.push_back(std::move(s));
    }
    // Random subsets of the history's ops, applied in random order.
    const std::vector<const crdt::Op*> all = sim.opsOf(patient);
    for (int k = 0; k < 2; ++k) {
      State s{crdt::ChartDocument(patient), {}};
      const double p = rng.real(0.2, 0.9);
      for (const crdt::Op* op : all)
        if (rng.chance(p)) s.ops.push_back(op);
      rng.shuffle(s.ops);
      cv::replay(s.doc, s.ops, rng);
      states.push_back(std::move(s));
    }
    const std::string where = tag + " " + patient;
    for (int t = 0; t < 3; ++t) {
      const State& a = states[rng.index(states.size())];
      const State& b = states[rng.index(states.size())];
      const State& c = states[rng.index(states.size())];
      ++m_triples;

      const State ab = merge(a, b, rng);
      const State ba = merge(b, a, rng);
      m_mergedOps += ab.ops.size();
      std::string d = difference(ab, ba);
      QVERIFY2(d.empty(), (where + ": merge(a, b) != merge(b, a): " + d).c_str());

      d = difference(merge(ab, c, rng), merge(a, merge(b, c, rng), rng));
      QVERIFY2(d.empty(), (where + ": merge(merge(a, b), c) != merge(a, merge(b, c)): " + d).c_str());

      const State aa = merge(a, a, rng);
      d = difference(aa, a);
      QVERIFY2(d.empty(), (where + ": merge(a, a) != a: " + d).c_str());
      crdt::ChartDocument again = a.doc;
      for (const crdt::Op* op : a.ops) {
        const auto r = again.apply(*op);
        QVERIFY2(r.isOk() && r.value() == crdt::ApplyOutcome::kDuplicate,
                 (where + ": applying " + crdt::toString(op->id) + " again was not a duplicate").c_str());
      }

      d = difference(merge(ab, b, rng), ab);
      QVERIFY2(d.empty(), (where + ": merge(merge(a, b), b) != merge(a, b): " + d).c_str());

      const State fresh = merge(State{crdt::ChartDocument(patient), {}}, a, rng);
      d = difference(fresh, a);
      QVERIFY2(d.empty(), (where + ": a's ops in another order != a: " + d).c_str());
    }
  }
}

void MergeLawsTest::laws() {
  const cv::SeedRange range = cv::seedRange(1500);
  for (std::uint64_t seed = range.first; seed < range.first + range.count; ++seed) {
    checkLaws(seed);
    if (QTest::currentTestFailed()) return;
  }
  qInfo("merge laws: %llu seeds, %llu triples, %llu ops merged", static_cast<unsigned long long>(range.count),
        static_cast<unsigned long long>(m_triples), static_cast<unsigned long long>(m_mergedOps));
}

QTEST_APPLESS_MAIN(MergeLawsTest)
#include "merge_laws_test.moc"
