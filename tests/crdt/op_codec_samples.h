// Sample ops and checks shared by the op codec suites (round trips and
// hostile input). Test code only.
#pragma once

#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "charta/crdt/op_codec.h"
#include "support/codec_bytes.h"

namespace charta::testing {

using namespace charta::crdt;

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kWall = 1700000000000ull;  // 2023-11-14


inline Op makeOp(OpId opId, Hlc hlc, OpBody body, std::string author = "u1", std::string patient = "p1") {
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
inline std::vector<Op> everyKind() {
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
inline void checkSingle(const Op& op) {
  const std::string enc = encodeOp(op);
  const Result<Op> dec = decodeOp(enc);
  QVERIFY2(dec.isOk(), dec.status().toString().c_str());
  QVERIFY(dec.value() == op);
  QCOMPARE(encodeOp(dec.value()), enc);
}

inline void checkBatch(const std::vector<Op>& ops) {
  const std::string enc = encodeBatch(ops);
  const Result<std::vector<Op>> dec = decodeBatch(enc);
  QVERIFY2(dec.isOk(), dec.status().toString().c_str());
  QVERIFY(dec.value() == ops);
  QCOMPARE(encodeBatch(dec.value()), enc);
}

// Hostile input never crashes; whatever decodes re-encodes to an equal value.
inline void checkHostile(std::string_view input) {
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

inline void expectCorruption(const Status& s, const char* contains) {
  QCOMPARE(s.code(), Status::Code::kCorruption);
  QVERIFY2(s.message().find(contains) != std::string::npos, s.message().c_str());
}

// Single-op framing around hand-written tables and payload. One replica (7),
// author "u", patient "p".
inline std::string handOp(std::uint8_t tag, std::string_view payload) {
  std::string out = bytes({0x10, 0x08, 0x01, 0x07, 0x01, 0x01, 'u', 0x01, 0x01, 'p'});
  out.push_back(static_cast<char>(tag));
  putVarint(out, payload.size());
  out.append(payload);
  return out;
}

// The golden op of docs/FORMAT.md.
inline Op goldenOp() {
  WriteField w;
  w.target = {Collection::kDemographics, {}, field::kFamilyName};
  w.value = std::string("Ann");
  return makeOp(id(7, 42), {kWall, 0}, w, "u1", "p1");
}

}  // namespace charta::testing
