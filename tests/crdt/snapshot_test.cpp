// ChartDocument::snapshot() and fromSnapshot(): the state a checkpoint keeps.
// A restored chart must be the same chart: same canonical state, same
// conflicts, same held ops, and the same outcome for every later op.
#include <QtTest>

#include "support/device.h"

using namespace charta::crdt;
using charta::testing::Device;

namespace {

Value text(const char* s) { return Value{std::string(s)}; }
const FieldRef kPhone{Collection::kDemographics, {}, field::kPhone};

void deliver(ChartDocument& to, const Op& op) {
  auto r = to.apply(op);
  QVERIFY2(r.isOk() || r.status().code() == Status::Code::kRejected, r.status().toString().c_str());
}

ChartDocument restored(const ChartDocument& doc) {
  auto r = ChartDocument::fromSnapshot(doc.snapshot());
  if (!r.isOk()) qWarning() << r.status().toString().c_str();
  return r.isOk() ? std::move(r).value() : ChartDocument("restore-failed");
}

void compareCharts(const ChartDocument& a, const ChartDocument& b) {
  QCOMPARE(b.patientId(), a.patientId());
  QCOMPARE(b.canonicalState(), a.canonicalState());
  QCOMPARE(b.appliedCount(), a.appliedCount());
  QCOMPARE(b.heldCount(), a.heldCount());
  QCOMPARE(b.knownCount(), a.knownCount());
  QVERIFY(b.rejected() == a.rejected());
  QVERIFY(b.missingDependencies() == a.missingDependencies());
  QVERIFY(b.seen() == a.seen());
  QVERIFY(b.latestHlc() == a.latestHlc());
  QCOMPARE(b.conflictCount(), a.conflictCount());
}

}  // namespace

class SnapshotTest : public QObject {
  Q_OBJECT

  // A chart with something of every kind: a demographic conflict, an allergy,
  // a medication moved forward, an observation with a reference range marked
  // entered-in-error, a note signed while its draft was edited elsewhere and
  // an addendum, a rejected op, and an op held for a missing dependency.
  // Returns the op the held one waits for (not delivered to a).
  struct Built {
    Device a{1, "ann"};
    Device b{2, "bob"};
    Op missing;
    Op medication;
  };

  static void build(Built& s) {
    Device& a = s.a;
    Device& b = s.b;
    auto both = [&](const Op& op) {
      deliver(a.doc, op);
      deliver(b.doc, op);
    };
    both(a.factory.writeField(a.doc, kPhone, text("555-0100")));
    const Op pa = a.factory.writeField(a.doc, kPhone, text("555-0111"));
    const Op pb = b.factory.writeField(b.doc, kPhone, text("555-0122"));
    both(pa);
    both(pb);
    both(a.factory.addEntry(a.doc, Collection::kAllergies,
                            {{field::kDisplay, text("penicillin")}, {field::kCriticality, text("high")}}));
    s.medication = a.factory.addEntry(a.doc, Collection::kMedications, {{field::kDisplay, text("metformin")}});
    both(s.medication);
    both(a.factory.setStatus(a.doc, s.medication.id, EntryStatus::kOnHold, "nausea"));
    AppendObservation obs;
    obs.category = ObservationCategory::kLaboratory;
    obs.code = "2345-7";
    obs.value = Value{5.4};
    obs.unit = "mmol/L";
    obs.effectiveMs = 1'700'000'000'000;
    obs.referenceLow = 3.9;
    obs.referenceHigh = 5.5;
    const Op lab = a.factory.appendObservation(a.doc, obs);
    both(lab);
    both(a.factory.markObservationError(a.doc, lab.id, "wrong patient's sample"));
    const Op note = a.factory.startNote(a.doc, "visit: wound clean");
    both(note);
    const Op sign = a.factory.signNote(a.doc, note.id, "visit: wound clean, dressing changed");
    // ann edits the draft on her second tablet, which has not seen the
    // signature: the edit stays beside the signed text.
    Device a2(3, "ann");
    deliver(a2.doc, note);
    const Op raced = a2.factory.editNote(a2.doc, note.id, "visit: wound clean, no infection");
    both(sign);
    both(raced);
    both(a.factory.addAddendum(a.doc, note.id, "photo taken"));
    // A rejected op: bob may not sign ann's note.
    both(b.factory.signNote(b.doc, note.id, "forged"));
    QVERIFY(!a.doc.rejected().empty());
    // A held op: bob writes twice; a gets only the second write.
    s.missing = b.factory.writeField(b.doc, kPhone, text("555-0133"));
    deliver(b.doc, s.missing);
    const Op dependent = b.factory.writeField(b.doc, kPhone, text("555-0144"));
    deliver(b.doc, dependent);
    deliver(a.doc, dependent);
    QCOMPARE(a.doc.heldCount(), std::size_t{1});
  }

 private slots:
  void restoredChartIsTheSameChart() {
    Built s;
    build(s);
    const ChartDocument copy = restored(s.a.doc);
    compareCharts(s.a.doc, copy);
    QVERIFY(copy.conflictCount() > 0);
    // A snapshot of the restored chart is the same snapshot again.
    compareCharts(copy, restored(copy));
  }

  void laterOpsHaveTheSameOutcomeOnTheRestoredChart() {
    Built s;
    build(s);
    ChartDocument copy = restored(s.a.doc);
    // The missing dependency arrives: the held op is released on both.
    deliver(s.a.doc, s.missing);
    deliver(copy, s.missing);
    QCOMPARE(copy.heldCount(), std::size_t{0});
    compareCharts(s.a.doc, copy);
    // A forward-only status may not go back from what its writer saw: the
    // restored register still remembers every status written.
    const Op back = s.a.factory.setStatus(s.a.doc, s.medication.id, EntryStatus::kActive, "restarted");
    auto original = s.a.doc.apply(back);
    auto again = copy.apply(back);
    QVERIFY(!original.isOk());
    QVERIFY(!again.isOk());
    QCOMPARE(again.status().message(), original.status().message());
    // A write that saw both phone numbers resolves the conflict on both.
    const Op resolve = s.a.factory.writeField(s.a.doc, kPhone, text("555-0199"), "called the patient");
    deliver(s.a.doc, resolve);
    deliver(copy, resolve);
    compareCharts(s.a.doc, copy);
    // A duplicate stays a no-op.
    auto dup = copy.apply(resolve);
    QVERIFY(dup.isOk());
    QVERIFY(dup.value() == ApplyOutcome::kDuplicate);
  }

  void aSnapshotThatContradictsItselfIsRefused() {
    Built s;
    build(s);
    {
      ChartSnapshot bad = s.a.doc.snapshot();
      bad.entries.push_back(bad.entries.front());
      auto r = ChartDocument::fromSnapshot(std::move(bad));
      QVERIFY(!r.isOk());
      QVERIFY(r.status().code() == Status::Code::kCorruption);
    }
    {
      ChartSnapshot bad = s.a.doc.snapshot();
      bad.held.front().patient = "someone-else";
      QVERIFY(ChartDocument::fromSnapshot(std::move(bad)).status().code() == Status::Code::kCorruption);
    }
    {
      ChartSnapshot bad = s.a.doc.snapshot();
      bad.rejected.emplace(bad.applied.front(), "both");
      QVERIFY(ChartDocument::fromSnapshot(std::move(bad)).status().code() == Status::Code::kCorruption);
    }
    {
      ChartSnapshot bad = s.a.doc.snapshot();
      bad.entries.front().collection = Collection::kDemographics;
      QVERIFY(ChartDocument::fromSnapshot(std::move(bad)).status().code() == Status::Code::kCorruption);
    }
    {
      ChartSnapshot bad = s.a.doc.snapshot();
      bad.patientId.clear();
      QVERIFY(ChartDocument::fromSnapshot(std::move(bad)).status().code() == Status::Code::kCorruption);
    }
  }

  void registerRestoreChecksOrderAndKind() {
    RegisterWrite w1{OpId{ReplicaId{1}, 1}, Hlc{10, 0}, "ann", text("x"), {}};
    RegisterWrite w2{OpId{ReplicaId{2}, 1}, Hlc{20, 0}, "bob", text("y"), {}};
    QVERIFY(Register::restore(RegisterKind::kMultiValue, {w1, w2}, {}).isOk());
    QVERIFY(Register::restore(RegisterKind::kMultiValue, {w2, w1}, {}).status().code() == Status::Code::kCorruption);
    QVERIFY(Register::restore(RegisterKind::kMultiValue, {w1, w1}, {}).status().code() == Status::Code::kCorruption);
    QVERIFY(Register::restore(RegisterKind::kMultiValue, {w1}, {{w1.id, 1}}).status().code() ==
            Status::Code::kCorruption);
    QVERIFY(Register::restore(static_cast<RegisterKind>(9), {}, {}).status().code() == Status::Code::kCorruption);
  }
};

QTEST_APPLESS_MAIN(SnapshotTest)
#include "snapshot_test.moc"
