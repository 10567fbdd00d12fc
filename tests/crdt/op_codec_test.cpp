// The op codec: round trips of every kind in both framings, compatibility
// with newer minor versions, size bounds and a golden encoding that pins the
// format (docs/FORMAT.md). Hostile input is in op_codec_hostile_test.cpp.
#include <QtTest>

#include "op_codec_samples.h"

using namespace charta::crdt;
using namespace charta::testing;

class OpCodecTest : public QObject {
  Q_OBJECT

 private slots:
  void roundTripsEveryKindSingly() {
    const std::vector<Op> ops = everyKind();
    // Three extra observations, one extra write; UnknownOp (a newer release's
    // kinds) has carriesOpsOfANewerKind.
    QCOMPARE(ops.size() - 4, std::variant_size_v<OpBody> - 1);
    for (const Op& op : ops) checkSingle(op);
  }

  void roundTripsEveryKindInABatch() {
    checkBatch(everyKind());
    checkBatch({});
    checkBatch({goldenOp()});
  }

  void roundTripsOutOfOrderBatches() {
    // Clocks and seqs going backwards and jumping across the whole range.
    std::vector<Op> ops = everyKind();
    std::reverse(ops.begin(), ops.end());
    checkBatch(ops);
    ops[0].hlc.wallMs = kMax64;
    ops[1].hlc.wallMs = 0;
    ops[2].hlc.wallMs = kMax64;
    ops[3].id.seq = 1;
    ops[4].id = id(kMax64, 1);
    ops[5].id = id(kMax64, kMax64);
    checkBatch(ops);
  }

  void roundTripsRandomOps() {
    RandomOps gen(20240301);
    std::vector<Op> all;
    for (int i = 0; i < 4000; ++i) {
      all.push_back(gen.next());
      checkSingle(all.back());
      if (QTest::currentTestFailed()) {
        qWarning("random op %d failed", i);
        return;
      }
    }
    // Batches of assorted sizes, cut from the same stream.
    std::size_t at = 0;
    std::mt19937 sizes(7);
    while (at < all.size()) {
      const std::size_t n = std::min<std::size_t>(all.size() - at, sizes() % 300);
      checkBatch(std::vector<Op>(all.begin() + static_cast<std::ptrdiff_t>(at),
                                 all.begin() + static_cast<std::ptrdiff_t>(at + n)));
      if (QTest::currentTestFailed()) return;
      at += n == 0 ? 1 : n;
    }
  }

  void skipsFieldsOfANewerMinorVersion() {
    for (const std::string& extra : {std::string("\x01"), std::string("\x05\x07hello\x00", 8), std::string(300, 'x')}) {
      for (const Op& op : everyKind()) {
        const Result<Op> r = decodeOp(withTrailingFields(encodeOp(op), false, extra));
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QVERIFY(r.value() == op);
      }
      const std::vector<Op> ops = everyKind();
      const Result<std::vector<Op>> r = decodeBatch(withTrailingFields(encodeBatch(ops), true, extra));
      QVERIFY2(r.isOk(), r.status().toString().c_str());
      QVERIFY(r.value() == ops);
    }
  }

  void carriesOpsOfANewerKind() {
    // Hand-written: kind 9, replica 7 seq 1, wall 1, context [7.5], then a body this release cannot read, kept byte for
    // byte.
    const std::string body("\x03\xff\x00opaque", 9);
    const std::string head = bytes({0x00, 0x02, 0x02});  // replica index 0, seq 1, wall +1
    const Result<Op> hand = decodeOp(handOp(0x09 | 0x10, head + bytes({0x01, 0x01, 0x08}) + body));
    QVERIFY2(hand.isOk(), hand.status().toString().c_str());
    const Op& op = hand.value();
    QVERIFY(op.id == (OpId{ReplicaId{7}, 1}));
    QCOMPARE(op.author, std::string("u"));
    QCOMPARE(op.patient, std::string("p"));
    QCOMPARE(op.context.size(), std::size_t{1});
    QVERIFY(op.context[0] == (OpId{ReplicaId{7}, 5}));
    QVERIFY(kindOf(op.body) == OpKind::kUnknown);
    QCOMPARE(int(std::get<UnknownOp>(op.body).kind), 9);
    QCOMPARE(std::get<UnknownOp>(op.body).body, body);

    // Relayed alone or among other ops, by other replicas and clocks, it
    // comes out the same op, with the same bytes alone.
    QCOMPARE(decodeOp(encodeOp(op)).value(), op);
    std::vector<Op> mixed = everyKind();
    mixed.insert(mixed.begin() + 3, op);
    Op last = op;
    last.id = OpId{ReplicaId{kMax64}, kMax64};
    last.hlc = Hlc{kWall, 3};
    last.author = "another user";
    last.context = {OpId{ReplicaId{1}, 1}, op.id};
    std::get<UnknownOp>(last.body) = UnknownOp{15, std::string()};
    mixed.push_back(last);
    const Result<std::vector<Op>> batch = decodeBatch(encodeBatch(mixed));
    QVERIFY2(batch.isOk(), batch.status().toString().c_str());
    QVERIFY(batch.value() == mixed);
    QCOMPARE(encodeOp(batch.value()[3]), encodeOp(op));

    // Kinds 0-7 are read, never carried: such an UnknownOp encodes to bytes
    // that do not decode, rather than to another op.
    Op wrong = op;
    std::get<UnknownOp>(wrong.body).kind = 1;
    QCOMPARE(decodeOp(encodeOp(wrong)).status().code(), Status::Code::kCorruption);
    QCOMPARE(decodeBatch(encodeBatch(std::vector<Op>{wrong})).status().code(), Status::Code::kCorruption);
  }

  void encodesCompactly() {
    // 1000 short writes on one patient's chart by 5 tablets, each write
    // superseding the previous value of its field, seconds apart.
    std::mt19937_64 rng(5);
    const char* const kValues[] = {"Ann", "female", "1984-03-01", "+254 700 123", "sw", "Kibera, plot 9"};
    std::vector<Op> ops;
    std::vector<std::uint64_t> seqs(5, 100);
    std::vector<OpId> lastWrite(11);
    std::uint64_t wall = kWall;
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t r = rng() % 5;
      const auto f = static_cast<FieldId>(1 + rng() % 10);
      WriteField w;
      w.target = {Collection::kDemographics, {}, f};
      w.value = std::string(kValues[rng() % std::size(kValues)]);
      if (!lastWrite[f].isNull()) w.preds = {lastWrite[f]};
      wall += rng() % 30000;
      Op op = makeOp(id(10 + r, ++seqs[r]), {wall, 0}, w, "user" + std::to_string(r), "4f1c2a9e-patient");
      lastWrite[f] = op.id;
      ops.push_back(op);
    }
    std::size_t valueBytes = 0;
    for (const Op& op : ops) valueBytes += std::get<std::string>(std::get<WriteField>(op.body).value).size();
    const std::string batch = encodeBatch(ops);
    const double perOp = static_cast<double>(batch.size()) / static_cast<double>(ops.size());
    const double overhead = static_cast<double>(batch.size() - valueBytes) / static_cast<double>(ops.size());
    qInfo("batch of %zu writes: %zu bytes, %.2f bytes/op (%.2f without the text itself)", ops.size(), batch.size(),
          perOp, overhead);
    QVERIFY2(perOp < 20.0, qPrintable(QString::number(perOp)));
    QVERIFY2(overhead < 12.0, qPrintable(QString::number(overhead)));

    // One by one, each op carries its author, patient and absolute ids and clock.
    std::size_t singleTotal = 0;
    std::size_t stringBytes = valueBytes;
    for (const Op& op : ops) {
      singleTotal += encodeOp(op).size();
      stringBytes += op.author.size() + op.patient.size();
    }
    const double singlePerOp = static_cast<double>(singleTotal) / static_cast<double>(ops.size());
    const double singleOverhead = static_cast<double>(singleTotal - stringBytes) / static_cast<double>(ops.size());
    qInfo("the same writes one by one: %.2f bytes/op (%.2f without the strings)", singlePerOp, singleOverhead);
    QVERIFY2(singleOverhead < 27.0, qPrintable(QString::number(singleOverhead)));
    QCOMPARE(encodeOp(goldenOp()).size(), std::size_t{29});
  }

  void matchesGoldenBytes() {
    // docs/FORMAT.md walks through these bytes; changing them is a format change.
    const std::string golden =
        bytes({0x10, 0x0a, 0x01, 0x07, 0x01, 0x02, 0x75, 0x31, 0x01, 0x02, 0x70, 0x31, 0x01, 0x0f, 0x00,
               0x54, 0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62, 0x08, 0x00, 0x19, 0x41, 0x6e, 0x6e, 0x00});
    QCOMPARE(QByteArray::fromStdString(encodeOp(goldenOp())).toHex(' '), QByteArray::fromStdString(golden).toHex(' '));
    const Result<Op> r = decodeOp(golden);
    QVERIFY(r.isOk());
    QVERIFY(r.value() == goldenOp());

    // The same op alone in a batch: op count 1 in the header, same record.
    const std::string batch =
        bytes({0x11, 0x0b, 0x01, 0x01, 0x07, 0x01, 0x02, 0x75, 0x31, 0x01, 0x02, 0x70, 0x31}) + golden.substr(12);
    QCOMPARE(QByteArray::fromStdString(encodeBatch(std::vector<Op>{goldenOp()})).toHex(' '),
             QByteArray::fromStdString(batch).toHex(' '));
    QCOMPARE(QByteArray::fromStdString(encodeBatch(std::vector<Op>{})).toHex(' '), QByteArray("11 04 00 00 00 00"));

    // The two-op batch of docs/FORMAT.md: a consecutive seq and a pred one behind it.
    Op second = goldenOp();
    second.id.seq = 43;
    second.hlc.wallMs += 1000;
    auto& w = std::get<WriteField>(second.body);
    w.value = std::string("Anne");
    w.preds = {goldenOp().id};
    const std::vector<Op> pair{goldenOp(), second};
    QCOMPARE(QByteArray::fromStdString(encodeBatch(pair)).toHex(' '),
             QByteArray("11 0b 02 01 07 01 02 75 31 01 02 70 31 01 0f 00 54 80 a0 ab fe f9 62 08 00 19 41 6e 6e 00 "
                        "01 0d 01 d0 0f 08 00 21 41 6e 6e 65 02 01 01"));
    const Result<std::vector<Op>> decoded = decodeBatch(encodeBatch(pair));
    QVERIFY(decoded.isOk());
    QVERIFY(decoded.value() == pair);
  }
};

QTEST_APPLESS_MAIN(OpCodecTest)
#include "op_codec_test.moc"
