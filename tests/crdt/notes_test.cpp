// Notes: drafts per author, signing freezes them, corrections are addenda.
#include <QtTest>

#include "support/device.h"

using namespace charta::crdt;
using charta::testing::Device;

namespace {

void deliver(Device& to, const Op& op) {
  auto r = to.doc.apply(op);
  QVERIFY2(r.isOk(), r.status().toString().c_str());
}

}  // namespace

class NotesTest : public QObject {
  Q_OBJECT

 private slots:
  void aSignedNoteIsFrozen() {
    Device a(1, "ann");
    const Op start = a.local(a.factory.startNote(a.doc, "Wound clean"));
    a.local(a.factory.editNote(a.doc, start.id, "Wound clean, dressing changed"));
    QVERIFY(a.lastStatus.isOk());
    a.local(a.factory.signNote(a.doc, start.id, "Wound clean, dressing changed."));
    QVERIFY(a.lastStatus.isOk());
    const Note& note = a.doc.notes().at(start.id);
    QVERIFY(note.isSigned());
    QCOMPARE(note.text(), std::string("Wound clean, dressing changed."));

    a.local(a.factory.editNote(a.doc, start.id, "changed my mind"));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(a.lastStatus.message().find("is signed; corrections are addenda") != std::string::npos);
    a.local(a.factory.signNote(a.doc, start.id, "sign again"));
    QCOMPARE(a.lastStatus.code(), Status::Code::kRejected);
    QCOMPARE(a.doc.notes().at(start.id).text(), std::string("Wound clean, dressing changed."));

    a.local(a.factory.addAddendum(a.doc, start.id, "Addendum: photo taken."));
    QVERIFY(a.lastStatus.isOk());
    a.local(a.factory.addAddendum(a.doc, start.id, "Second addendum."));
    QVERIFY(a.lastStatus.isOk());
    QCOMPARE(a.doc.notes().at(start.id).addenda.size(), std::size_t{2});
  }

  void onlyTheAuthorEditsOrSignsButAnyoneAddsAddenda() {
    Device a(1, "ann"), b(2, "bob");
    const Op start = a.local(a.factory.startNote(a.doc, "draft"));
    deliver(b, start);
    b.local(b.factory.editNote(b.doc, start.id, "bob was here"));
    QCOMPARE(b.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(b.lastStatus.message().find("author") != std::string::npos);
    b.local(b.factory.signNote(b.doc, start.id, "bob signs"));
    QCOMPARE(b.lastStatus.code(), Status::Code::kRejected);

    b.local(b.factory.addAddendum(b.doc, start.id, "too early"));
    QCOMPARE(b.lastStatus.code(), Status::Code::kRejected);
    QVERIFY(b.lastStatus.message().find("signed") != std::string::npos);

    const Op sign = a.local(a.factory.signNote(a.doc, start.id, "final"));
    deliver(b, sign);
    b.local(b.factory.addAddendum(b.doc, start.id, "seen by bob"));
    QVERIFY(b.lastStatus.isOk());
  }

  void anEditThatRacedTheSignatureStaysVisibleUntilAnAddendum() {
    // The same nurse on two devices: one signs while the other still edits.
    Device tablet(1, "ann"), phone(2, "ann");
    const Op start = tablet.local(tablet.factory.startNote(tablet.doc, "v1"));
    deliver(phone, start);
    const Op sign = tablet.local(tablet.factory.signNote(tablet.doc, start.id, "v1 signed"));
    const Op late = phone.local(phone.factory.editNote(phone.doc, start.id, "v2 more detail"));
    QVERIFY(phone.lastStatus.isOk());
    deliver(tablet, late);
    deliver(phone, sign);
    QCOMPARE(tablet.doc.canonicalState(), phone.doc.canonicalState());

    const Note& note = tablet.doc.notes().at(start.id);
    QCOMPARE(note.text(), std::string("v1 signed"));  // the signature wins the text
    auto conflicts = tablet.doc.conflicts();
    QCOMPARE(conflicts.size(), std::size_t{1});
    QVERIFY(conflicts[0].isNote);
    QCOMPARE(conflicts[0].values.size(), std::size_t{2});

    const Op addendum = tablet.local(tablet.factory.addAddendum(tablet.doc, start.id, "v2 more detail"));
    QVERIFY(tablet.lastStatus.isOk());
    deliver(phone, addendum);
    QVERIFY(tablet.doc.conflicts().empty());
    QCOMPARE(tablet.doc.canonicalState(), phone.doc.canonicalState());
    QCOMPARE(tablet.doc.notes().at(start.id).text(), std::string("v1 signed"));
  }
};

QTEST_APPLESS_MAIN(NotesTest)
#include "notes_test.moc"
