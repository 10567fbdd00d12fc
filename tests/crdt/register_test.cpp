// Register: multi-value and forward-only semantics in isolation.
#include <QtTest>

#include "charta/crdt/register.h"

using namespace charta::crdt;

namespace {

RegisterWrite w(std::uint64_t replica, std::uint64_t seq, std::uint64_t ms, Value v) {
  return RegisterWrite{OpId{ReplicaId{replica}, seq}, Hlc{ms, 0}, "u" + std::to_string(replica), std::move(v), {}};
}
OpId id(std::uint64_t replica, std::uint64_t seq) { return OpId{ReplicaId{replica}, seq}; }
Value text(const char* s) { return Value{std::string(s)}; }
Value status(EntryStatus s) { return Value{static_cast<std::int64_t>(s)}; }

}  // namespace

class RegisterTest : public QObject {
  Q_OBJECT

 private slots:
  void aWriteThatSawTheValueReplacesIt() {
    Register r;
    r.apply(w(1, 1, 10, text("a")), {});
    const OpId preds[] = {id(1, 1)};
    r.apply(w(2, 1, 20, text("b")), preds);
    QCOMPARE(r.heads().size(), std::size_t{1});
    QCOMPARE(std::get<std::string>(r.current().value), std::string("b"));
    QVERIFY(!r.conflicted());
  }

  void concurrentWritesAreAllKeptAndFlagged() {
    Register r;
    r.apply(w(1, 1, 10, text("a")), {});
    const OpId preds[] = {id(1, 1)};
    r.apply(w(2, 1, 30, text("b")), preds);
    r.apply(w(3, 1, 20, text("c")), preds);
    QCOMPARE(r.heads().size(), std::size_t{2});
    QVERIFY(r.conflicted());
    // Heads are sorted by (hlc, id), whatever the arrival order.
    QCOMPARE(std::get<std::string>(r.heads()[0].value), std::string("c"));
    QCOMPARE(std::get<std::string>(r.heads()[1].value), std::string("b"));

    // A write that saw both resolves it.
    const OpId both[] = {id(2, 1), id(3, 1)};
    r.apply(w(1, 2, 40, text("d")), both);
    QVERIFY(!r.conflicted());
    QCOMPARE(r.heads().size(), std::size_t{1});
  }

  void concurrentEqualValuesAreNoConflict() {
    Register r;
    r.apply(w(1, 1, 10, text("same")), {});
    r.apply(w(2, 1, 10, text("same")), {});
    QCOMPARE(r.heads().size(), std::size_t{2});
    QVERIFY(!r.conflicted());
  }

  void forwardStatusRefusesToGoBackFromWhatItSaw() {
    Register r(RegisterKind::kForwardStatus);
    r.apply(w(1, 1, 10, status(EntryStatus::kActive)), {});
    const OpId sawActive[] = {id(1, 1)};
    QVERIFY(r.check(status(EntryStatus::kOnHold), sawActive).isOk());
    r.apply(w(1, 2, 20, status(EntryStatus::kOnHold)), sawActive);
    const OpId sawHold[] = {id(1, 2)};
    const Status back = r.check(status(EntryStatus::kActive), sawHold);
    QCOMPARE(back.code(), Status::Code::kRejected);
    QVERIFY(back.message().find("on-hold back to active") != std::string::npos);
    QVERIFY(r.check(status(EntryStatus::kStopped), sawHold).isOk());
    QCOMPARE(r.check(Value{std::string("x")}, sawHold).code(), Status::Code::kRejected);
  }

  void forwardStatusShowsTheMostAdvancedConcurrentValue() {
    Register r(RegisterKind::kForwardStatus);
    r.apply(w(1, 1, 10, status(EntryStatus::kActive)), {});
    const OpId preds[] = {id(1, 1)};
    // The stop is older by clock but more advanced: it wins, flagged.
    r.apply(w(2, 1, 20, status(EntryStatus::kStopped)), preds);
    r.apply(w(3, 1, 90, status(EntryStatus::kOnHold)), preds);
    QVERIFY(r.conflicted());
    QCOMPARE(std::get<std::int64_t>(r.current().value), static_cast<std::int64_t>(EntryStatus::kStopped));
  }

  void retireRemovesHeadsWithoutWriting() {
    Register r;
    r.apply(w(1, 1, 10, text("a")), {});
    r.apply(w(2, 1, 10, text("b")), {});
    const OpId one[] = {id(1, 1)};
    r.retire(one);
    QCOMPARE(r.heads().size(), std::size_t{1});
    QCOMPARE(std::get<std::string>(r.current().value), std::string("b"));
  }
};

QTEST_APPLESS_MAIN(RegisterTest)
#include "register_test.moc"
