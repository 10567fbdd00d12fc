// Value types: OpId order, HLC tick/receive with bounded drift, version
// vectors, value order.
#include <QtTest>

#include "charta/crdt/hlc.h"
#include "charta/crdt/op.h"
#include "charta/crdt/value.h"
#include "charta/crdt/version_vector.h"

using namespace charta::crdt;

class ClockTest : public QObject {
  Q_OBJECT

 private slots:
  void opIdsHaveATotalOrder() {
    const OpId a{ReplicaId{1}, 5};
    const OpId b{ReplicaId{1}, 6};
    const OpId c{ReplicaId{2}, 1};
    QVERIFY(a < b);
    QVERIFY(b < c);
    QVERIFY(a < c);
    QVERIFY(!(a < a));
    QCOMPARE(toString(a), std::string("r1.5"));
    QVERIFY(OpId{}.isNull());
    QCOMPARE(toString(OpId{}), std::string("-"));
  }

  void tickIsStrictlyIncreasingEvenWhenTimeStandsStillOrGoesBack() {
    HybridClock clock;
    const Hlc t1 = clock.tick(1000);
    const Hlc t2 = clock.tick(1000);
    const Hlc t3 = clock.tick(900);  // the wall clock went back
    const Hlc t4 = clock.tick(2000);
    QVERIFY(t1 < t2);
    QVERIFY(t2 < t3);
    QVERIFY(t3 < t4);
    QCOMPARE(t3.wallMs, std::uint64_t{1000});
    QCOMPARE(t4.wallMs, std::uint64_t{2000});
    QCOMPARE(t4.logical, 0u);
  }

  void receiveKeepsLocalStampsAheadOfRemoteOnes() {
    HybridClock clock(60'000);
    clock.tick(1000);
    QVERIFY(clock.receive(Hlc{50'000, 7}, 1000).isOk());
    const Hlc next = clock.tick(1000);
    QVERIFY(next > (Hlc{50'000, 7}));
  }

  void receiveRefusesAStampBeyondTheDriftBound() {
    HybridClock clock(60'000);
    const Hlc before = clock.tick(1000);
    const Status s = clock.receive(Hlc{1000 + 60'001, 0}, 1000);
    QCOMPARE(s.code(), Status::Code::kClockSkew);
    QVERIFY(s.message().find("ahead") != std::string::npos);
    QVERIFY(clock.last() == before);  // untouched
    QVERIFY(clock.receive(Hlc{1000 + 60'000, 0}, 1000).isOk());
    QVERIFY(clock.withinDrift(Hlc{5, 0}, 1000));  // the past is always fine
  }

  void versionVectorsCoverAndMerge() {
    VersionVector a;
    a.advance(OpId{ReplicaId{1}, 3});
    a.advance(OpId{ReplicaId{1}, 2});  // never goes back
    a.advance(OpId{ReplicaId{2}, 5});
    QCOMPARE(a.get(ReplicaId{1}), std::uint64_t{3});
    QVERIFY(a.covers(OpId{ReplicaId{1}, 3}));
    QVERIFY(!a.covers(OpId{ReplicaId{1}, 4}));
    QVERIFY(!a.covers(OpId{ReplicaId{9}, 1}));
    QVERIFY(!a.covers(OpId{}));

    VersionVector b;
    b.advance(OpId{ReplicaId{1}, 1});
    b.advance(OpId{ReplicaId{3}, 4});
    QVERIFY(!a.covers(b));
    VersionVector m = a;
    m.merge(b);
    QVERIFY(m.covers(a));
    QVERIFY(m.covers(b));
    QCOMPARE(m.toString(), std::string("{r1:3, r2:5, r3:4}"));
    VersionVector m2 = b;
    m2.merge(a);
    QVERIFY(m == m2);  // merge commutes
  }

  void valuesHaveATotalOrder() {
    QVERIFY(compareValues(Value{}, Value{std::string("a")}) < 0);
    QVERIFY(compareValues(Value{std::string("a")}, Value{std::string("b")}) < 0);
    QVERIFY(compareValues(Value{std::int64_t{3}}, Value{std::int64_t{3}}) == 0);
    QVERIFY(compareValues(Value{0.0}, Value{-0.0}) != 0);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QVERIFY(compareValues(Value{1e300}, Value{nan}) < 0);
    QVERIFY(sameValue(Value{nan}, Value{nan}));
    QCOMPARE(toDisplayString(Value{true}), std::string("yes"));
  }
};

QTEST_APPLESS_MAIN(ClockTest)
#include "clock_test.moc"
