// The op codec: round trips of every kind in both framings, hostile input
// (truncation, bit flips, huge declared sizes, bad enums), versioning, size
// bounds and a golden encoding that pins the format (docs/FORMAT.md).
#include "charta/crdt/op_codec.h"

#include <QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/codec_bytes.h"

using namespace charta::crdt;
using namespace charta::testing;

namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kWall = 1700000000000ull;  // 2023-11-14


Op makeOp(OpId opId, Hlc hlc, OpBody body, std::string author = "u1", std::string patient = "p1") {
  Op op;
  op.id = opId;
  op.hlc = hlc;
  op.author = std::move(author);
  op.patient = std::move(patient);
  op.body = std::move(body);
  return op;
}





// One op of every kind, with the awkward cases: unicode, empty strings,
// optional ranges, extreme ids and clocks, context.
std::vector<Op> everyKind() {
  std::vector<Op> ops;
  AddEntry add;
  add.collection = Collection::kMedications;
  add.fields = {{field::kCode, std::string("http://snomed.info/sct|387517004")},
                {field::kDisplay, std::string("Paracétamol 500 mg — 口服")},
                {field::kDose, 2.5},
                {kStatusField, std::int64_t{1}},
                {99, true},
                {100, std::monostate{}}};
  add.visit = id(3, 9);
  ops.push_back(makeOp(id(7, 1), {kWall, 0}, add, "nurse.amina", "patient-0001"));

  WriteField demo;
  demo.target = {Collection::kDemographics, {}, field::kFamilyName};
  demo.value = std::string("Ngũgĩ wa Thiong'o");
  ops.push_back(makeOp(id(7, 2), {kWall + 5, 0}, demo, "nurse.amina", "patient-0001"));

  WriteField status;
  status.target = {Collection::kMedications, id(7, 1), kStatusField};
  status.value = std::int64_t{6};
  status.preds = {id(7, 1), id(kMax64, kMax64)};
  status.reason = "adverse reaction: rash";
  ops.push_back(makeOp(id(2, kMax64), {kWall - 60000, 3}, status, "dr.ólafur", "patient-0002"));

  AppendObservation vital;
  vital.category = ObservationCategory::kVitalSign;
  vital.code = "8867-4";
  vital.value = 72.0;
  vital.unit = "/min";
  vital.effectiveMs = static_cast<std::int64_t>(kWall) - 120000;
  vital.visit = id(3, 9);
  ops.push_back(makeOp(id(3, 10), {kWall + 1, 0}, vital));

  AppendObservation lab;
  lab.category = ObservationCategory::kLaboratory;
  lab.code = "2345-7";
  lab.value = std::string("positive");
  lab.unit = "";
  lab.effectiveMs = std::numeric_limits<std::int64_t>::min();
  lab.referenceLow = -0.5;
  ops.push_back(makeOp(id(3, 11), {0, std::numeric_limits<std::uint32_t>::max()}, lab));

  AppendObservation rangeHigh = lab;
  rangeHigh.effectiveMs = std::numeric_limits<std::int64_t>::max();
  rangeHigh.referenceLow.reset();
  rangeHigh.referenceHigh = 1e300;
  ops.push_back(makeOp(id(3, 12), {kMax64, 1}, rangeHigh));

  AppendObservation both = lab;
  both.referenceLow = 3.5;
  both.referenceHigh = 5.1;
  both.value = std::int64_t{std::numeric_limits<std::int64_t>::min()};
  ops.push_back(makeOp(id(3, 13), {kWall, 0}, both));

  MarkObservationError mark;
  mark.target = id(3, 10);
  mark.reason = "";
  ops.push_back(makeOp(id(1, 1), {kWall + 2, 0}, mark, "", ""));

  StartNote start;
  start.text = "Home visit. Pt reports 🤒 since Tuesday.\nPlan: fluids.";
  start.visit = id(3, 9);
  ops.push_back(makeOp(id(7, 3), {kWall + 3, 0}, start, "nurse.amina", "patient-0001"));

  EditNote edit;
  edit.note = id(7, 3);
  edit.text = "";
  edit.preds = {id(7, 3)};
  ops.push_back(makeOp(id(7, 4), {kWall + 4, 0}, edit, "nurse.amina", "patient-0001"));

  SignNote sign;
  sign.note = id(7, 3);
  sign.text = "Signed text";
  sign.preds = {id(7, 4)};
  Op signOp = makeOp(id(7, 5), {kWall + 4, 1}, sign, "nurse.amina", "patient-0001");
  signOp.context = {id(2, kMax64), id(kMax64, 1)};
  ops.push_back(signOp);

  AddAddendum addendum;
  addendum.note = id(7, 3);
  addendum.text = "Addendum: family informed.";
  addendum.preds = {id(7, 5), id(7, 4)};
  ops.push_back(makeOp(id(kMax64, kMax64), {kWall + 9, 0}, addendum, "dr.ólafur", "patient-0001"));
  return ops;
}

// A seeded generator of arbitrary valid ops (no NaN: Op::operator== uses ==).
class RandomOps {
 public:
  explicit RandomOps(std::uint64_t seed) : m_rng(seed) {}

  Op next() {
    Op op;
    op.id = nonNullId();
    op.hlc.wallMs = pick(4) == 0 ? m_rng() : kWall + below(1000000);
    op.hlc.logical = pick(3) == 0 ? static_cast<std::uint32_t>(m_rng()) : 0;
    op.author = text(12);
    op.patient = pick(2) == 0 ? "patient-1" : text(20);
    if (pick(5) == 0) op.context = refs(4);
    switch (pick(8)) {
      case 0: {
        AddEntry b;
        b.collection = static_cast<Collection>(1 + pick(kCollectionCount - 1));
        for (std::uint64_t i = 0, n = pick(5); i < n; ++i) b.fields.push_back({static_cast<FieldId>(m_rng()), value()});
        b.visit = maybeId();
        op.body = b;
        break;
      }
      case 1: {
        WriteField b;
        b.target = {static_cast<Collection>(pick(kCollectionCount)), maybeId(), static_cast<FieldId>(m_rng())};
        b.value = value();
        b.preds = refs(3);
        b.reason = text(30);
        op.body = b;
        break;
      }
      case 2: {
        AppendObservation b;
        b.category = pick(2) == 0 ? ObservationCategory::kVitalSign : ObservationCategory::kLaboratory;
        b.code = text(10);
        b.value = value();
        b.unit = text(6);
        b.effectiveMs = static_cast<std::int64_t>(m_rng());
        if (pick(2) == 0) b.referenceLow = real();
        if (pick(2) == 0) b.referenceHigh = real();
        b.visit = maybeId();
        op.body = b;
        break;
      }
      case 3: op.body = MarkObservationError{nonNullId(), text(20)}; break;
      case 4: op.body = StartNote{text(200), maybeId()}; break;
      case 5: op.body = EditNote{nonNullId(), text(200), refs(3)}; break;
      case 6: op.body = SignNote{nonNullId(), text(200), refs(3)}; break;
      default: op.body = AddAddendum{nonNullId(), text(200), refs(3)}; break;
    }
    return op;
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return m_rng() % n; }
  std::uint64_t below(std::uint64_t n) { return m_rng() % n; }

  std::uint64_t nonZero() {
    switch (pick(4)) {
      case 0: return 1 + pick(5);
      case 1: return 1 + pick(1000);
      case 2: return kMax64 - pick(3);
      default: return 1 + pick(kMax64);
    }
  }
  OpId nonNullId() {
    const std::uint64_t replica = nonZero();
    return id(replica, nonZero());
  }
  OpId maybeId() { return pick(3) == 0 ? OpId{} : nonNullId(); }
  std::vector<OpId> refs(std::uint64_t max) {
    std::vector<OpId> out;
    for (std::uint64_t i = 0, n = pick(max + 1); i < n; ++i) out.push_back(nonNullId());
    return out;
  }
  double real() {
    double d = 0;
    do {
      const std::uint64_t bits = m_rng();
      std::memcpy(&d, &bits, sizeof d);
    } while (std::isnan(d));
    return pick(2) == 0 ? d : static_cast<double>(static_cast<std::int64_t>(m_rng() % 100000)) / 10.0;
  }
  // Text from ASCII, multi-byte UTF-8, newlines and NUL bytes.
  std::string text(std::uint64_t maxLen) {
    static const std::string_view kPieces[] = {"a", "Z", " ", "é", "口", "🤒", "\n", std::string_view("\0", 1), "|"};
    std::string s;
    for (std::uint64_t i = 0, n = pick(maxLen + 1); i < n; ++i) s += kPieces[pick(std::size(kPieces))];
    return s;
  }
  Value value() {
    switch (pick(5)) {
      case 0: return std::monostate{};
      case 1: return text(40);
      case 2: return static_cast<std::int64_t>(m_rng());
      case 3: return real();
      default: return pick(2) == 0;
    }
  }

  std::mt19937_64 m_rng;
};

// decode(encode(x)) == x in the single framing.
void checkSingle(const Op& op) {
  const std::string enc = encodeOp(op);
  const Result<Op> dec = decodeOp(enc);
  QVERIFY2(dec.isOk(), dec.status().toString().c_str());
  QVERIFY(dec.value() == op);
  QCOMPARE(encodeOp(dec.value()), enc);
}

void checkBatch(const std::vector<Op>& ops) {
  const std::string enc = encodeBatch(ops);
  const Result<std::vector<Op>> dec = decodeBatch(enc);
  QVERIFY2(dec.isOk(), dec.status().toString().c_str());
  QVERIFY(dec.value() == ops);
  QCOMPARE(encodeBatch(dec.value()), enc);
}

// Hostile input never crashes; whatever decodes re-encodes to an equal value.
void checkHostile(std::string_view input) {
  const Result<Op> op = decodeOp(input);
  if (op.isOk()) {
    const std::string enc = encodeOp(op.value());
    const Result<Op> again = decodeOp(enc);
    QVERIFY(again.isOk());
    QCOMPARE(encodeOp(again.value()), enc);
  }
  const Result<std::vector<Op>> batch = decodeBatch(input);
  if (batch.isOk()) {
    const std::string enc = encodeBatch(batch.value());
    const Result<std::vector<Op>> again = decodeBatch(enc);
    QVERIFY(again.isOk());
    QCOMPARE(encodeBatch(again.value()), enc);
  }
}

void expectCorruption(const Status& s, const char* contains) {
  QCOMPARE(s.code(), Status::Code::kCorruption);
  QVERIFY2(s.message().find(contains) != std::string::npos, s.message().c_str());
}

// Single-op framing around hand-written tables and payload. One replica (7),
// author "u", patient "p".
std::string handOp(std::uint8_t tag, std::string_view payload) {
  std::string out = bytes({0x10, 0x08, 0x01, 0x07, 0x01, 0x01, 'u', 0x01, 0x01, 'p'});
  out.push_back(static_cast<char>(tag));
  putVarint(out, payload.size());
  out.append(payload);
  return out;
}

// The golden op of docs/FORMAT.md.
Op goldenOp() {
  WriteField w;
  w.target = {Collection::kDemographics, {}, field::kFamilyName};
  w.value = std::string("Ann");
  return makeOp(id(7, 42), {kWall, 0}, w, "u1", "p1");
}

}  // namespace

class OpCodecTest : public QObject {
  Q_OBJECT

 private slots:
  void roundTripsEveryKindSingly() {
    const std::vector<Op> ops = everyKind();
    QCOMPARE(ops.size() - 4, std::variant_size_v<OpBody>);  // three extra observations, one extra write
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

  void rejectsTrailingGarbage() {
    expectCorruption(decodeOp(encodeOp(goldenOp()) + '\0').status(), "1 trailing bytes after the op");
    expectCorruption(decodeBatch(encodeBatch(everyKind()) + "ab").status(), "2 trailing bytes after the last op");
    expectCorruption(decodeBatch(encodeBatch(std::vector<Op>{}) + "a").status(), "trailing bytes");
  }

  void hugeDeclaredSizesFailFast() {
    const auto start = std::chrono::steady_clock::now();
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
    const auto elapsed = std::chrono::steady_clock::now() - start;
    QVERIFY(elapsed < std::chrono::seconds(1));
  }

  void rejectsOutOfRangeValues() {
    const std::string head = bytes({0x00, 0x02, 0x02});  // replica index 0, seq 1, wall 1
    // A valid hand-written StartNote, to show the framing helper is right.
    QVERIFY(decodeOp(handOp(0x04, head + bytes({0x01, 'a', 0x00}))).isOk());
    expectCorruption(decodeOp(handOp(0x08, head)).status(), "unknown op kind 8");
    expectCorruption(decodeOp(handOp(0x0F, head)).status(), "unknown op kind 15");
    // WriteField with collection 7, field 70000, value kinds 5..7, bad payloads.
    expectCorruption(decodeOp(handOp(0x01, head + bytes({0x0F, 0x00, 0x00, 0x00, 0x00}))).status(),
                     "unknown collection 7");
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

QTEST_APPLESS_MAIN(OpCodecTest)
#include "op_codec_test.moc"
