// Register against a trivial model computed from the whole set of writes.
//
// For each seeded random history (sim/register_history.h) and several random
// causal delivery orders: every valid write passes check() and is applied;
// every write going back from a status it saw fails check() whenever it is
// tried; and the heads (writes that no other write lists in its preds, sorted
// by (hlc, id)), conflicted() and current() equal the model's (for
// last-writer-wins: the latest head by (hlc, op id), never a conflict).
#include <QtTest>

#include <string>
#include <unordered_set>

#include "sim/register_history.h"
#include "test_env.h"

namespace cv = charta::convergence;
namespace crdt = charta::crdt;

namespace {

std::string ids(const std::vector<crdt::OpId>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + crdt::toString(v[i]);
  return out + "}";
}

// A random linear extension of the valid writes' preds order.
std::vector<const cv::ModelWrite*> randomCausalOrder(const cv::RegisterHistory& h, cv::Rng& rng) {
  std::vector<const cv::ModelWrite*> pending;
  for (const auto& w : h.valid) pending.push_back(&w);
  std::unordered_set<crdt::OpId> done;
  std::vector<const cv::ModelWrite*> out;
  while (!pending.empty()) {
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto& preds = pending[i]->preds;
      if (std::all_of(preds.begin(), preds.end(), [&](const crdt::OpId& p) { return done.contains(p); }))
        ready.push_back(i);
    }
    const std::size_t pick = ready[rng.index(ready.size())];
    out.push_back(pending[pick]);
    done.insert(pending[pick]->id);
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return out;
}

crdt::RegisterWrite toWrite(const cv::ModelWrite& w) { return crdt::RegisterWrite{w.id, w.hlc, w.author, w.value, w.reason}; }

std::vector<crdt::OpId> headIds(const crdt::Register& r) {
  std::vector<crdt::OpId> out;
  for (const auto& w : r.heads()) out.push_back(w.id);
  return out;
}

}  // namespace

class RegisterPropertyTest : public QObject {
  Q_OBJECT

 private slots:
  void registerMatchesModel_data();
  void registerMatchesModel();
  void lastWriterWinsStampBehindPred();
};

void RegisterPropertyTest::registerMatchesModel_data() {
  QTest::addColumn<int>("kind");
  QTest::newRow("multi-value") << static_cast<int>(crdt::RegisterKind::kMultiValue);
  QTest::newRow("forward-only status") << static_cast<int>(crdt::RegisterKind::kForwardStatus);
  QTest::newRow("last writer wins") << static_cast<int>(crdt::RegisterKind::kLastWriterWins);
}

void RegisterPropertyTest::registerMatchesModel() {
  QFETCH(int, kind);
  const auto regKind = static_cast<crdt::RegisterKind>(kind);
  const cv::SeedRange range = cv::seedRange(4000);
  std::uint64_t writes = 0, invalidChecked = 0, skewed = 0;
  for (std::uint64_t seed = range.first; seed < range.first + range.count; ++seed) {
    cv::Rng rng(seed * 3 + static_cast<std::uint64_t>(kind));
    const cv::RegisterHistory h = cv::randomRegisterHistory(regKind, rng);
    const cv::ModelRegister model = cv::modelOf(h);
    const auto heads = model.heads();
    std::vector<crdt::OpId> expected;
    for (const auto* w : heads) expected.push_back(w->id);
    skewed += h.skewedStamps;

    std::vector<crdt::OpId> firstOrder;
    for (int order = 0; order < 3; ++order) {
      const std::string where = "seed " + std::to_string(seed) + " order " + std::to_string(order) + ": ";
      crdt::Register reg(regKind);
      std::unordered_set<crdt::OpId> applied;
      for (const cv::ModelWrite* w : randomCausalOrder(h, rng)) {
        const crdt::Status s = reg.check(w->value, w->preds);
        QVERIFY2(s.isOk(), (where + "valid write " + crdt::toString(w->id) + " failed check: " + s.toString()).c_str());
        reg.apply(toWrite(*w), w->preds);
        applied.insert(w->id);
        ++writes;
        // Invalid writes whose preds have all arrived must fail, and change nothing.
        for (const cv::ModelWrite& bad : h.invalid) {
          if (!std::all_of(bad.preds.begin(), bad.preds.end(), [&](const crdt::OpId& p) { return applied.contains(p); }))
            continue;
          const auto before = headIds(reg);
          QVERIFY2(!reg.check(bad.value, bad.preds).isOk(),
                   (where + "write " + crdt::toString(bad.id) + " going back passed check").c_str());
          QVERIFY2(headIds(reg) == before, (where + "check() changed the register").c_str());
          ++invalidChecked;
        }
      }
      if (order == 0) firstOrder = headIds(reg);
      QVERIFY2(headIds(reg) == firstOrder, (where + "heads " + ids(headIds(reg)) + " depend on the delivery order (" +
                                            ids(firstOrder) + " in order 0)").c_str());
      QVERIFY2(headIds(reg) == expected,
               (where + "heads " + ids(headIds(reg)) + ", model " + ids(expected)).c_str());
      QVERIFY2(reg.conflicted() == model.conflicted(heads),
               (where + "conflicted() differs from the model").c_str());
      if (heads.empty()) {
        QVERIFY2(reg.empty(), (where + "register not empty").c_str());
        continue;
      }
      const cv::ModelWrite& shown = model.shown(heads);
      QVERIFY2(crdt::sameValue(reg.current().value, shown.value),
               (where + "current() is " + crdt::toDisplayString(reg.current().value) + ", model " +
                crdt::toDisplayString(shown.value))
                   .c_str());
    }
  }
  qInfo("%s: %llu histories, %llu writes applied, %llu invalid writes checked, %llu stamps behind a pred",
        QTest::currentDataTag(), static_cast<unsigned long long>(range.count),
        static_cast<unsigned long long>(writes), static_cast<unsigned long long>(invalidChecked),
        static_cast<unsigned long long>(skewed));
}

// The smallest case of the last-writer-wins divergence the simulator found
// (seed 2541): w2 saw w1 but carries an older stamp (its device's clock
// refused w1's stamp as too far ahead); w3 is concurrent, stamped between
// them. Every delivery order must give the same heads, w1 stays superseded
// whatever the clocks say, and the latest head (w3) is shown.
void RegisterPropertyTest::lastWriterWinsStampBehindPred() {
  const crdt::OpId w1{crdt::ReplicaId{1}, 1}, w2{crdt::ReplicaId{2}, 1}, w3{crdt::ReplicaId{3}, 1};
  auto write = [](crdt::OpId id, std::uint64_t wallMs, const char* v) {
    return crdt::RegisterWrite{id, crdt::Hlc{wallMs, 0}, "u", crdt::Value{std::string(v)}, {}};
  };
  const std::vector<crdt::OpId> none, sawW1{w1};
  crdt::Register a(crdt::RegisterKind::kLastWriterWins), b(crdt::RegisterKind::kLastWriterWins);
  a.apply(write(w1, 100, "dark"), none);
  a.apply(write(w2, 50, "large-text"), sawW1);
  a.apply(write(w3, 70, "compact"), none);
  b.apply(write(w1, 100, "dark"), none);
  b.apply(write(w3, 70, "compact"), none);
  b.apply(write(w2, 50, "large-text"), sawW1);
  QVERIFY2(headIds(a) == headIds(b), ("order w1 w2 w3 gives " + ids(headIds(a)) + ", order w1 w3 w2 gives " +
                                      ids(headIds(b)))
                                         .c_str());
  QVERIFY2(headIds(a) == (std::vector<crdt::OpId>{w2, w3}), ("heads " + ids(headIds(a)) + ", expected {r2.1, r3.1}").c_str());
  QVERIFY(!a.conflicted());
  QVERIFY2(a.current().id == w3, ("shows " + crdt::toString(a.current().id) + ", the latest head is r3.1").c_str());
}

QTEST_APPLESS_MAIN(RegisterPropertyTest)
#include "register_property_test.moc"
