// The op codec on hostile input: every truncation, bit flips, random bytes,
// newer major versions, bad format bytes, trailing garbage, huge declared
// sizes, out-of-range enums and bad tables all fail cleanly (never crash).
#include <QtTest>

#include "op_codec_samples.h"

using namespace charta::crdt;
using namespace charta::testing;

class OpCodecHostileTest : public QObject {
  Q_OBJECT

 private slots:
  void everyTruncationFails() {
    const std::vector<Op> ops = everyKind();
    for (const Op& op : ops) {
      const std::string enc = encodeOp(op);
      for (std::size_t n = 0; n < enc.size(); ++n) {
        const Result<Op> r = decodeOp(std::string_view(enc).substr(0, n));
        QVERIFY2(!r.isOk(), qPrintable(QStringLiteral("prefix %1 of %2 decoded").arg(n).arg(enc.size())));
        QCOMPARE(r.status().code(), Status::Code::kCorruption);
      }
    }
    const std::string batch = encodeBatch(ops);
    for (std::size_t n = 0; n < batch.size(); ++n) {
      const Result<std::vector<Op>> r = decodeBatch(std::string_view(batch).substr(0, n));
      QVERIFY2(!r.isOk(), qPrintable(QStringLiteral("prefix %1 of %2 decoded").arg(n).arg(batch.size())));
      QCOMPARE(r.status().code(), Status::Code::kCorruption);
    }
  }

  void truncationMessagesSayWhere() {
    const std::string batch = encodeBatch(everyKind());
    const Result<std::vector<Op>> r = decodeBatch(std::string_view(batch).substr(0, batch.size() - 1));
    expectCorruption(r.status(), "batch op 11: truncated op body");
  }

  void bitFlipsNeverCrash() {
    std::vector<std::string> inputs;
    for (const Op& op : everyKind()) inputs.push_back(encodeOp(op));
    inputs.push_back(encodeBatch(everyKind()));
    for (const std::string& enc : inputs) {
      for (std::size_t bit = 0; bit < enc.size() * 8; ++bit) {
        std::string flipped = enc;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        checkHostile(flipped);
        if (QTest::currentTestFailed()) return;
      }
    }
  }

  void randomBytesNeverCrash() {
    std::mt19937_64 rng(99);
    const std::string valid = encodeBatch(everyKind());
    for (int i = 0; i < 20000; ++i) {
      std::string s;
      if (i % 2 == 0) {
        // Mutations of a valid batch: overwrite a few bytes.
        s = valid;
        for (int k = 0; k < 1 + i % 4; ++k) s[rng() % s.size()] = static_cast<char>(rng());
      } else {
        s.resize(rng() % 64);
        for (char& c : s) c = static_cast<char>(rng());
        if (!s.empty()) s[0] = static_cast<char>(0x10 + (i / 2) % 2);
      }
      checkHostile(s);
      if (QTest::currentTestFailed()) return;
    }
  }

  void refusesNewerMajorVersion() {
    for (std::string enc : {encodeOp(goldenOp()), encodeBatch(everyKind())}) {
      const bool batch = enc[0] == 0x11;
      for (int major : {2, 3, 15}) {
        enc[0] = static_cast<char>((major << 4) | (batch ? 1 : 0));
        const Status s = batch ? decodeBatch(enc).status() : decodeOp(enc).status();
        QCOMPARE(s.code(), Status::Code::kUnsupportedVersion);
        QVERIFY2(s.message().find("major version " + std::to_string(major)) != std::string::npos, s.message().c_str());
      }
    }
    // Whatever follows the format byte of a newer major is not looked at.
    QCOMPARE(decodeOp(bytes({0x20})).status().code(), Status::Code::kUnsupportedVersion);
    QCOMPARE(decodeBatch(bytes({0x21, 0xFF})).status().code(), Status::Code::kUnsupportedVersion);
  }

  void rejectsBadFormatByte() {
    QCOMPARE(decodeOp("").status().code(), Status::Code::kCorruption);
    QCOMPARE(decodeBatch("").status().code(), Status::Code::kCorruption);
    std::string enc = encodeOp(goldenOp());
    enc[0] = 0x00;
    expectCorruption(decodeOp(enc).status(), "bad format byte");
    enc[0] = 0x12;
    expectCorruption(decodeOp(enc).status(), "unknown framing 2");
    // One framing is not accepted for the other.
    expectCorruption(decodeOp(encodeBatch(everyKind())).status(), "a batch, not a single op");
    expectCorruption(decodeBatch(encodeOp(goldenOp())).status(), "a single op, not a batch");
  }

  void rejectsTrailingGarbage() {
    expectCorruption(decodeOp(encodeOp(goldenOp()) + '\0').status(), "1 trailing bytes after the op");
    expectCorruption(decodeBatch(encodeBatch(everyKind()) + "ab").status(), "2 trailing bytes after the last op");
    expectCorruption(decodeBatch(encodeBatch(std::vector<Op>{}) + "a").status(), "trailing bytes");
  }

  // A decoder that trusted these sizes before checking them against the input
  // would try to reserve terabytes and abort the suite.
  void hugeDeclaredSizesAreRefusedBeforeAllocating() {
    const std::string huge = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F});
    // Header length.
    expectCorruption(decodeOp(bytes({0x10}) + huge).status(), "truncated header");
    // Op count, over the limit and over the input.
    expectCorruption(decodeBatch(bytes({0x11, 0x09}) + huge).status(), "over the limit");
    expectCorruption(decodeBatch(bytes({0x11, 0x04, 0xFF, 0xFF, 0x03, 0x00, 0x00, 0x00})).status(), "cannot fit");
    // Table sizes.
    expectCorruption(decodeBatch(bytes({0x11, 0x0C, 0x00}) + huge + bytes({0, 0})).status(), "replica table size");
    expectCorruption(decodeBatch(bytes({0x11, 0x0C, 0x00, 0x00}) + huge + bytes({0})).status(), "author table size");
    expectCorruption(decodeOp(bytes({0x10, 0x05, 0x00, 0x01, 0xFF, 0xFF, 0x03})).status(), "author id too long");
    // Op length.
    expectCorruption(decodeOp(bytes({0x10, 0x08, 0x01, 0x07, 0x01, 0x01, 'u', 0x01, 0x01, 'p', 0x01}) + huge).status(),
                     "truncated op body");
    // Text, pred and field counts inside a body.
    const std::string head = bytes({0x00, 0x02, 0x02});  // replica index 0, seq 1, wall 1
    expectCorruption(decodeOp(handOp(0x04, head + bytes({0xFF, 0xFF, 0x7F}))).status(), "text too long");
    expectCorruption(decodeOp(handOp(0x04, head + bytes({0x0A, 'a'}))).status(), "truncated text");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x0F}))).status(),
                     "too many preds");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x00, 0x20, 0x01}))).status(), "truncated preds");
    expectCorruption(decodeOp(handOp(0x00, head + bytes({0x02, 0xFF, 0xFF, 0x3F}))).status(), "too many fields");
    expectCorruption(decodeOp(handOp(0x00, head + bytes({0x02, 0x40, 0x01, 0x00}))).status(), "truncated fields");
    expectCorruption(decodeOp(handOp(0x01 | 0x10, head + bytes({0xFF, 0xFF, 0x3F}))).status(), "too many context");
  }

  void rejectsOutOfRangeValues() {
    const std::string head = bytes({0x00, 0x02, 0x02});  // replica index 0, seq 1, wall 1
    // A valid hand-written StartNote, to show the framing helper is right.
    QVERIFY(decodeOp(handOp(0x04, head + bytes({0x01, 'a', 0x00}))).isOk());
    // Kinds 8-15 are a newer release's: carried (op_codec_test), yet their
    // common fields are checked like any op's.
    QVERIFY(decodeOp(handOp(0x0F, head)).isOk());
    expectCorruption(decodeOp(handOp(0x08, bytes({0x00, 0x00, 0x02}))).status(), "op id has seq 0");
    expectCorruption(decodeOp(handOp(0x0C, bytes({0x02, 0x02}))).status(), "replica index 1 out of range");
    expectCorruption(decodeOp(handOp(0x08 | 0x10, head + bytes({0x01, 0x00, 0x00}))).status(), "null id in context");
    // AddEntry with collection 8; WriteField with field 70000, value kinds 5..7, bad payloads.
    // (WriteField gives a collection 3 bits: all eight values are collections.)
    expectCorruption(decodeOp(handOp(0x00, head + bytes({0x08, 0x00}))).status(), "unknown collection 8");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x80, 0x97, 0x22, 0x00, 0x00, 0x00, 0x00}))).status(),
                     "field id 70000 out of range");
    for (int kind : {5, 6, 7}) {
      expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, kind, 0x00, 0x00}))).status(),
                       "unknown value kind");
    }
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x14, 0x00, 0x00}))).status(), "bad bool");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x08, 0x00, 0x00}))).status(), "bad null");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x0A, 0x00, 0x00, 0x00}))).status(),
                     "bad integer");
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x08, 0x00, 0x03, 0x00}))).status(), "truncated value");
    // Observation category 0 and 3, unknown flag bits.
    for (int flags : {0x00, 0x03, 0x11}) {
      expectCorruption(decodeOp(handOp(0x02, head + bytes({flags, 0x00, 0x00, 0x00, 0x00, 0x00}))).status(),
                       "observation");
    }
    // Own id: replica index out of range, seq 0.
    expectCorruption(decodeOp(handOp(0x04, bytes({0x02, 0x02, 0x02, 0x00, 0x00}))).status(),
                     "replica index 1 out of range");
    expectCorruption(decodeOp(handOp(0x04, bytes({0x00, 0x00, 0x02, 0x00, 0x00}))).status(), "op id has seq 0");
    // References: null in a list, seq 0, replica index out of range.
    expectCorruption(decodeOp(handOp(0x05, head + bytes({0x01, 0x00, 0x00, 0x01, 0x00, 0x00}))).status(),
                     "null id in preds");
    expectCorruption(decodeOp(handOp(0x05, head + bytes({0x01, 0x00, 0x00, 0x01, 0x01, 0x01}))).status(),
                     "preds has seq 0");
    expectCorruption(decodeOp(handOp(0x05, head + bytes({0x02, 0x00, 0x00, 0x00}))).status(),
                     "note replica index 1 out of range");
    // Clock, author and patient.
    expectCorruption(decodeOp(handOp(0x84, head + bytes({0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x00}))).status(),
                     "logical clock out of range");
    expectCorruption(decodeOp(handOp(0x24, head + bytes({0x01, 0x00, 0x00}))).status(), "author index 1");
    expectCorruption(decodeOp(handOp(0x44, head + bytes({0x05, 0x00, 0x00}))).status(), "patient index 5");
    // Varints longer than 64 bits.
    expectCorruption(
        decodeOp(handOp(0x04, bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x00}))).status(),
        "overlong varint in replica index");
  }

  void rejectsBadTables() {
    // Replica 0 as an op's own id.
    Op op = goldenOp();
    op.id = id(0, 5);
    expectCorruption(decodeOp(encodeOp(op)).status(), "op id has replica 0");
    op.id = id(5, 0);
    expectCorruption(decodeOp(encodeOp(op)).status(), "op id has seq 0");
    // A reference that names replica 0 with a seq (half null).
    WriteField w;
    w.preds = {id(0, 3)};
    expectCorruption(decodeOp(encodeOp(makeOp(id(1, 1), {kWall, 0}, w))).status(), "preds names replica 0");
    // Replica table not strictly increasing.
    expectCorruption(decodeBatch(bytes({0x11, 0x06, 0x00, 0x02, 0x05, 0x00, 0x00, 0x00})).status(),
                     "not strictly increasing");
  }

  void decodesNaNWithoutCrashing() {
    WriteField w;
    w.value = std::numeric_limits<double>::quiet_NaN();
    const Op op = makeOp(id(1, 1), {kWall, 0}, w);
    const std::string enc = encodeOp(op);
    const Result<Op> r = decodeOp(enc);
    QVERIFY(r.isOk());
    const double d = std::get<double>(std::get<WriteField>(r.value().body).value);
    QVERIFY(std::isnan(d));
    QCOMPARE(encodeOp(r.value()), enc);  // bit-exact
  }
};

QTEST_APPLESS_MAIN(OpCodecHostileTest)
#include "op_codec_hostile_test.moc"
