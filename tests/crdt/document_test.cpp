// ChartDocument: the clinical merge rules, causal gaps, idempotence, rejection.
#include <QtTest>

#include "support/device.h"

using namespace charta::crdt;
using charta::testing::Device;

namespace {

Value text(const char* s) { return Value{std::string(s)}; }
const FieldRef kBirthDate{Collection::kDemographics, {}, field::kBirthDate};

void deliver(Device& to, const Op& op) {
  auto r = to.doc.apply(op);
  QVERIFY2(r.isOk(), r.status().toString().c_str());
}

}  // namespace

class DocumentTest : public QObject {
  Q_OBJECT

 private slots:
  void concurrentDemographicEditsBecomeAConflictWithBothValues() {
    Device a(1, "nurse-ann"), b(2, "nurse-bob");
    const Op base = a.local(a.factory.writeField(a.doc, kBirthDate, text("1950-01-01")));
    deliver(b, base);
    b.clock.advance(5000);
    const Op fromA = a.local(a.factory.writeField(a.doc, kBirthDate, text("1950-01-10")));
    const Op fromB = b.local(b.factory.writeField(b.doc, kBirthDate, text("1951-01-01")));
    deliver(a, fromB);
    deliver(b, fromA);
    QCOMPARE(a.doc.stateHash(), b.doc.stateHash());

    const auto conflicts = a.doc.conflicts();
    QCOMPARE(conflicts.size(), std::size_t{1});
    const Conflict& c = conflicts.front();
    QCOMPARE(c.path, std::string("demographics.birthDate"));
    QCOMPARE(c.patient, std::string("patient-1"));
    QVERIFY(c.clinical);
    QCOMPARE(c.values.size(), std::size_t{2});
    QCOMPARE(c.values[0].author, std::string("nurse-ann"));  // older clock first
    QVERIFY(c.values[0].device == ReplicaId{1});
    QCOMPARE(c.values[1].author, std::string("nurse-bob"));
    QCOMPARE(std::get<std::string>(c.values[1].value), std::string("1951-01-01"));
    QVERIFY(c.values[0].hlc < c.values[1].hlc);

    // A write that saw both values resolves it everywhere.
    const Op resolve = b.local(b.factory.writeField(b.doc, kBirthDate, text("1950-01-10"), "checked passport"));
    deliver(a, resolve);
    QVERIFY(a.doc.conflicts().empty());
    QCOMPARE(std::get<std::string>(a.doc.demographic(field::kBirthDate).current().value), std::string("1950-01-10"));
    QCOMPARE(a.doc.demographic(field::kBirthDate).current().reason, std::string("checked passport"));
    QCOMPARE(a.doc.stateHash(), b.doc.stateHash());
  }

  void concurrentlyAddedAllergiesAreBothKept() {
    Device a(1, "ann"), b(2, "bob");
    const Op pa = a.local(a.factory.addEntry(a.doc, Collection::kAllergies, {{field::kDisplay, text("penicillin")}}));
    const Op pb = b.local(b.factory.addEntry(b.doc, Collection::kAllergies, {{field::kDisplay, text("latex")}}));
    deliver(a, pb);
    deliver(b, pa);
    QCOMPARE(a.doc.entries(Collection::kAllergies).size(), std::size_t{2});
    QCOMPARE(a.doc.canonicalState(), b.doc.canonicalState());
    const Entry* e = a.doc.findEntry(pa.id);
    QVERIFY(e != nullptr);
    QCOMPARE(e->currentStatus(), static_cast<std::int64_t>(EntryStatus::kActive));
    QCOMPARE(std::get<std::string>(e->fieldValue(field::kDisplay)), std::string("penicillin"));
  }

  void attachmentsAddedOfflineOnTwoDevicesBothSurviveAndNameTheirBlobs() {
    Device a(1, "ann"), b(2, "bob");
    const std::string hashA(64, 'a'), hashB(64, 'b');
    auto photo = [](const std::string& hash, const char* caption) {
      return std::vector<FieldValue>{{field::kContentHash, Value{hash}},
                                     {field::kMediaType, text("image/jpeg")},
                                     {field::kContentSize, Value{std::int64_t{48213}}},
                                     {field::kAttachmentKind, text("wound-photo")},
                                     {field::kDisplay, text(caption)},
                                     {field::kSeries, text("left heel")}};
    };
    const Op pa = a.local(a.factory.addEntry(a.doc, Collection::kAttachments, photo(hashA, "day 1")));
    const Op pb = b.local(b.factory.addEntry(b.doc, Collection::kAttachments, photo(hashB, "day 1, other nurse")));
    QVERIFY(a.lastStatus.isOk() && b.lastStatus.isOk());
    deliver(a, pb);
    deliver(b, pa);
    QCOMPARE(a.doc.entries(Collection::kAttachments).size(), std::size_t{2});
    QCOMPARE(a.doc.stateHash(), b.doc.stateHash());
    QCOMPARE(std::get<std::string>(a.doc.findEntry(pb.id)->fieldValue(field::kContentHash)), hashB);
    QCOMPARE(a.doc.findEntry(pa.id)->currentStatus(), static_cast<std::int64_t>(EntryStatus::kActive));

    // Marked entered-in-error like any entry: with a reason, and never deleted.
    a.local(a.factory.setStatus(a.doc, pa.id, EntryStatus::kEnteredInError, ""));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    a.local(a.factory.setStatus(a.doc, pa.id, EntryStatus::kEnteredInError, "wrong patient photographed"));
    QVERIFY(a.lastStatus.isOk());
    QCOMPARE(a.doc.entries(Collection::kAttachments).size(), std::size_t{2});
    a.local(a.factory.setStatus(a.doc, pb.id, EntryStatus::kResolved, "healed"));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);  // not an attachment status

    // References that no device could fetch are refused.
    auto refused = [&](FieldId f, Value v, const char* why) {
      a.local(a.factory.addEntry(a.doc, Collection::kAttachments, {{f, std::move(v)}}));
      QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
      QVERIFY2(a.lastStatus.message().find(why) != std::string::npos, a.lastStatus.message().c_str());
    };
    refused(field::kContentHash, text("ABC"), "64 lowercase hex");
    refused(field::kContentHash, Value{std::string(64, 'A')}, "64 lowercase hex");
    refused(field::kThumbnailHash, Value{std::string(63, 'a') + "g"}, "64 lowercase hex");
    refused(field::kMediaType, text("text/html"), "unsupported media type");
    refused(field::kAttachmentKind, text("selfie"), "unknown kind");
    refused(field::kContentSize, Value{std::int64_t{0}}, "must be positive");
    QCOMPARE(a.doc.entries(Collection::kAttachments).size(), std::size_t{2});
  }

  void removalIsAStatusChangeWithAReason() {
    Device a(1, "ann");
    const Op add = a.local(a.factory.addEntry(a.doc, Collection::kProblems, {{field::kDisplay, text("asthma")}}));
    a.local(a.factory.setStatus(a.doc, add.id, EntryStatus::kResolved, ""));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(a.lastStatus.message().find("needs a reason") != std::string::npos);
    a.local(a.factory.setStatus(a.doc, add.id, EntryStatus::kResolved, "no symptoms for two years"));
    QVERIFY(a.lastStatus.isOk());
    const Entry* e = a.doc.findEntry(add.id);
    QCOMPARE(e->currentStatus(), static_cast<std::int64_t>(EntryStatus::kResolved));
    QCOMPARE(a.doc.entries(Collection::kProblems).size(), std::size_t{1});  // never deleted
    // A medication status is not a problem status.
    a.local(a.factory.setStatus(a.doc, add.id, EntryStatus::kOnHold, "why not"));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
  }

  void medicationStatusMovesForwardOnlyAndTheMostAdvancedWins() {
    Device a(1, "ann"), b(2, "bob");
    const Op med = a.local(a.factory.addEntry(a.doc, Collection::kMedications, {{field::kDisplay, text("warfarin")}}));
    deliver(b, med);
    const Op stop = a.local(a.factory.setStatus(a.doc, med.id, EntryStatus::kStopped, "bleeding"));
    b.clock.advance(60'000);  // b's clock is later, but hold is less advanced
    const Op hold = b.local(b.factory.setStatus(b.doc, med.id, EntryStatus::kOnHold, "surgery"));
    deliver(a, hold);
    deliver(b, stop);
    QCOMPARE(a.doc.stateHash(), b.doc.stateHash());
    const Entry* e = a.doc.findEntry(med.id);
    QCOMPARE(e->currentStatus(), static_cast<std::int64_t>(EntryStatus::kStopped));
    const auto conflicts = a.doc.conflicts();
    QCOMPARE(conflicts.size(), std::size_t{1});
    QCOMPARE(conflicts[0].path, "medications[" + toString(med.id) + "].status");
    QCOMPARE(std::get<std::int64_t>(conflicts[0].shown), static_cast<std::int64_t>(EntryStatus::kStopped));

    // Having seen "stopped", going back to active is refused.
    a.local(a.factory.setStatus(a.doc, med.id, EntryStatus::kActive, ""));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(a.lastStatus.message().find("only move forward") != std::string::npos);
  }

  void opsWithMissingDependenciesAreHeldThenApplied() {
    Device a(1, "ann"), b(2, "bob");
    const Op add = a.local(a.factory.addEntry(a.doc, Collection::kMedications, {{field::kDose, text("5 mg")}}));
    const Op dose = a.local(a.factory.writeField(a.doc, {Collection::kMedications, add.id, field::kDose}, text("10 mg")));
    const Op dose2 = a.local(a.factory.writeField(a.doc, {Collection::kMedications, add.id, field::kDose}, text("7.5 mg")));
    auto r = b.doc.apply(dose2);
    QVERIFY(r.isOk());
    QCOMPARE(r.value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.apply(dose).value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.heldCount(), std::size_t{2});
    QVERIFY(b.doc.missingDependencies() == std::vector<OpId>{add.id});
    QCOMPARE(b.doc.apply(add).value(), ApplyOutcome::kApplied);
    QCOMPARE(b.doc.heldCount(), std::size_t{0});
    QCOMPARE(b.doc.appliedCount(), std::size_t{3});
    QCOMPARE(b.doc.canonicalState(), a.doc.canonicalState());
    QCOMPARE(std::get<std::string>(b.doc.findEntry(add.id)->fieldValue(field::kDose)), std::string("7.5 mg"));
  }

  void duplicatesAreNoOps() {
    Device a(1, "ann"), b(2, "bob");
    const Op op = a.local(a.factory.writeField(a.doc, kBirthDate, text("2001-02-03")));
    deliver(b, op);
    const std::string before = b.doc.canonicalState();
    QCOMPARE(b.doc.apply(op).value(), ApplyOutcome::kDuplicate);
    QCOMPARE(b.doc.canonicalState(), before);
  }

  void anOpForAnotherPatientIsRefusedAndNotRemembered() {
    Device a(1, "ann", "patient-1"), b(2, "bob", "patient-2");
    const Op op = a.local(a.factory.writeField(a.doc, kBirthDate, text("2001-02-03")));
    auto r = b.doc.apply(op);
    QCOMPARE(r.status().code(), Status::Code::kInvalidArgument);
    QVERIFY(!b.doc.knows(op.id));
  }

  void rejectionsAreRememberedAndCascade() {
    Device a(1, "ann"), b(2, "bob");
    // A wrong kind of value for a field is refused.
    const Op bad = a.local(a.factory.writeField(a.doc, kBirthDate, Value{std::int64_t{19500101}}));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    // An op built on it (crafted: the factory would not do this) is refused too.
    Op child = a.factory.writeField(a.doc, kBirthDate, text("1950-01-01"));
    std::get<WriteField>(child.body).preds = {bad.id};
    QCOMPARE(a.doc.apply(child).status().code(), Status::Code::kRejected);
    QVERIFY(a.doc.rejected().at(child.id).find("depends on rejected op") != std::string::npos);
    // Another replica rejects the same ops, in any order.
    QCOMPARE(b.doc.apply(child).value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.apply(bad).status().code(), Status::Code::kRejected);
    QCOMPARE(b.doc.heldCount(), std::size_t{0});
    QCOMPARE(b.doc.canonicalState(), a.doc.canonicalState());
    QCOMPARE(b.doc.apply(bad).value(), ApplyOutcome::kDuplicate);
  }

  void anOpCannotDependOnItselfOrOnALaterOpOfItsDevice() {
    Device a(1, "ann");
    Op op = a.factory.writeField(a.doc, kBirthDate, text("x"));
    op.context = {OpId{ReplicaId{1}, op.id.seq + 3}};
    QCOMPARE(a.doc.apply(op).status().code(), Status::Code::kRejected);
    QCOMPARE(a.doc.heldCount(), std::size_t{0});
  }

  // An op held for one that turns out to depend on itself is rejected with
  // it, in either order (a fuzzer's find: it used to stay held for ever).
  void opsHeldForASelfReferencingOpAreRejectedWithIt() {
    Device a(1, "ann"), b(2, "bob"), c(3, "cy");
    Op loop = a.factory.writeField(a.doc, kBirthDate, text("1950-01-01"));
    loop.context = {loop.id};
    Op child = b.factory.writeField(b.doc, kBirthDate, text("1960-01-01"));
    std::get<WriteField>(child.body).preds = {loop.id};
    QCOMPARE(b.doc.apply(child).value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.apply(loop).status().code(), Status::Code::kRejected);
    QCOMPARE(b.doc.heldCount(), std::size_t{0});
    QVERIFY(b.doc.rejected().at(child.id).find("depends on rejected op") != std::string::npos);
    QCOMPARE(c.doc.apply(loop).status().code(), Status::Code::kRejected);
    QCOMPARE(c.doc.apply(child).status().code(), Status::Code::kRejected);
    QCOMPARE(b.doc.canonicalState(), c.doc.canonicalState());
    QCOMPARE(b.doc.rejected(), c.doc.rejected());
    auto restored = ChartDocument::fromSnapshot(b.doc.snapshot());
    QVERIFY2(restored.isOk(), restored.status().toString().c_str());
  }

  void opsOfANewerKindAreCarriedWithoutEffect() {
    Device a(1, "ann"), b(2, "bob"), c(3, "cy");
    const Op allergy = a.local(a.factory.addEntry(a.doc, Collection::kAllergies, {{field::kDisplay, text("latex")}}));
    const std::uint64_t shown = a.doc.stateHash();
    // A newer release's op: it builds on the allergy through its context.
    Op newer = a.factory.writeField(a.doc, kBirthDate, text("ignored"));
    newer.body = UnknownOp{11, std::string("\x01\x02newer body", 13)};
    newer.context = {allergy.id};
    // A later op of a known kind that saw it.
    Op later = a.factory.writeField(a.doc, kBirthDate, text("1950-01-01"));
    later.context = {newer.id};

    QCOMPARE(a.doc.apply(newer).value(), ApplyOutcome::kApplied);
    QVERIFY(a.doc.stateHash() != shown);  // the chart knows it holds it
    QCOMPARE(a.doc.newerOps().size(), std::size_t{1});
    QVERIFY(a.doc.newerOps().at(newer.id) == newer);
    QVERIFY(a.doc.entries(Collection::kAllergies).size() == 1);  // nothing shown changed
    QVERIFY(a.doc.demographic(field::kBirthDate).heads().empty());
    QCOMPARE(a.doc.apply(later).value(), ApplyOutcome::kApplied);

    // Out of order: held until its context arrives, released with the rest.
    QCOMPARE(b.doc.apply(later).value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.apply(newer).value(), ApplyOutcome::kHeld);
    QCOMPARE(b.doc.apply(allergy).value(), ApplyOutcome::kApplied);
    QCOMPARE(b.doc.heldCount(), std::size_t{0});
    QCOMPARE(b.doc.canonicalState(), a.doc.canonicalState());
    QCOMPARE(b.doc.apply(newer).value(), ApplyOutcome::kDuplicate);

    // A checkpoint keeps it, so a release that can read it finds it.
    auto restored = ChartDocument::fromSnapshot(b.doc.snapshot());
    QVERIFY2(restored.isOk(), restored.status().toString().c_str());
    QCOMPARE(restored.value().canonicalState(), a.doc.canonicalState());
    QVERIFY(restored.value().newerOps().at(newer.id) == newer);

    // Kinds 0-7 are this release's own: one claiming to be unknown is refused.
    Op fake = newer;
    fake.id = c.factory.writeField(c.doc, kBirthDate, text("x")).id;
    fake.context = {};
    std::get<UnknownOp>(fake.body).kind = 3;
    QCOMPARE(c.doc.apply(fake).status().code(), Status::Code::kRejected);
    QVERIFY(c.doc.newerOps().empty());
  }

  void entriesMustBeAddressedInTheirOwnCollection() {
    Device a(1, "ann");
    const Op allergy = a.local(a.factory.addEntry(a.doc, Collection::kAllergies, {}));
    a.local(a.factory.writeField(a.doc, {Collection::kMedications, allergy.id, field::kDose}, text("5 mg")));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    Op weird = a.factory.addEntry(a.doc, Collection::kAllergies, {});
    std::get<AddEntry>(weird.body).collection = static_cast<Collection>(42);
    QCOMPARE(a.doc.apply(weird).status().code(), Status::Code::kRejected);
    Op demo = a.factory.addEntry(a.doc, Collection::kDemographics, {});
    QCOMPARE(a.doc.apply(demo).status().code(), Status::Code::kRejected);
  }

  void entriesLinkToTheVisitTheyWereChartedIn() {
    Device a(1, "ann");
    const Op visit = a.local(a.factory.addEntry(a.doc, Collection::kVisits,
                                                {{field::kSetting, text("school")},
                                                 {field::kStart, Value{std::int64_t{1'700'000'000'000}}},
                                                 {field::kReason, text("asthma review")}}));
    const Op imm = a.local(a.factory.addEntry(a.doc, Collection::kImmunisations,
                                              {{field::kDisplay, text("MMR")}}, visit.id));
    QVERIFY(a.lastStatus.isOk());
    QVERIFY(a.doc.findEntry(imm.id)->visit == visit.id);
    // A link to something that is not a visit is refused.
    a.local(a.factory.addEntry(a.doc, Collection::kAllergies, {}, imm.id));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(a.lastStatus.message().find("not a visit") != std::string::npos);
  }

  void observationsAppendAndAreMarkedEnteredInError() {
    Device a(1, "ann"), b(2, "bob");
    AppendObservation temp{ObservationCategory::kVitalSign, std::string(loinc::kBodyTemperature), Value{37.2}, "Cel",
                           1'700'000'000'000, std::nullopt, std::nullopt, {}};
    const Op t1 = a.local(a.factory.appendObservation(a.doc, temp));
    const Op t2 = b.local(b.factory.appendObservation(b.doc, temp));  // same reading, other nurse
    AppendObservation lab{ObservationCategory::kLaboratory, "2345-7", Value{5.4}, "mmol/L", 1'700'000'000'000, 3.9, 5.5,
                          {}};
    const Op l1 = a.local(a.factory.appendObservation(a.doc, lab));
    deliver(b, t1);
    deliver(b, l1);
    deliver(a, t2);
    QCOMPARE(a.doc.observations().size(), std::size_t{3});
    const Op noReason = a.local(a.factory.markObservationError(a.doc, t1.id, ""));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QCOMPARE(b.doc.apply(noReason).status().code(), Status::Code::kRejected);
    const Op mark = a.local(a.factory.markObservationError(a.doc, t1.id, "wrong patient"));
    QVERIFY(a.lastStatus.isOk());
    deliver(b, mark);
    QVERIFY(b.doc.observations().at(t1.id).enteredInError());
    QVERIFY(!b.doc.observations().at(t2.id).enteredInError());
    QVERIFY(b.doc.observations().at(l1.id).data.referenceHigh == std::optional<double>(5.5));
    QCOMPARE(a.doc.canonicalState(), b.doc.canonicalState());
  }

  void unknownFieldsFromNewerPeersAreKept() {
    Device a(1, "ann"), b(2, "bob");
    const FieldRef future{Collection::kDemographics, {}, 777};
    const Op op = a.local(a.factory.writeField(a.doc, future, text("v2 data")));
    QVERIFY(a.lastStatus.isOk());
    deliver(b, op);
    QVERIFY(b.doc.findRegister(future) != nullptr);
    QCOMPARE(toPath(future), std::string("demographics.field777"));
  }

  void nonClinicalFieldsAreLastWriterWins() {
    Device a(1, "ann"), b(2, "bob");
    const FieldRef pref{Collection::kDemographics, {}, field::kDisplayPreference};
    b.clock.advance(1000);
    const Op x = a.local(a.factory.writeField(a.doc, pref, text("large text")));
    const Op y = b.local(b.factory.writeField(b.doc, pref, text("dark")));
    deliver(a, y);
    deliver(b, x);
    QVERIFY(a.doc.conflicts().empty());
    QCOMPARE(std::get<std::string>(a.doc.demographic(field::kDisplayPreference).current().value), std::string("dark"));
    QCOMPARE(a.doc.canonicalState(), b.doc.canonicalState());
  }
};

QTEST_APPLESS_MAIN(DocumentTest)
#include "document_test.moc"
