// The properties every input to the op codec must satisfy, shared by the
// libFuzzer target (op_codec_fuzz.cc) and the corpus replay suite:
//  - decoding never crashes, and fails only with kCorruption or
//    kUnsupportedVersion;
//  - whatever decodes re-encodes to bytes that decode to the same ops, and
//    encoding those again gives the same bytes (one round makes it canonical);
//  - every op of a decoded batch also round-trips alone.
// Reals are compared by their encoding, so NaN values are checked bit-exactly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/op_codec.h"

namespace charta::crdt::fuzz {

struct CodecCheck {
  Status op;            // what decodeOp said
  Status batch;         // what decodeBatch said
  std::string failure;  // empty when every property held
};

// a == b, or the same bits where == fails on NaN.
inline bool sameOp(const Op& a, const Op& b) { return a == b || encodeOp(a) == encodeOp(b); }

inline bool expectedFailure(const Status& s) {
  return s.code() == Status::Code::kCorruption || s.code() == Status::Code::kUnsupportedVersion;
}

inline std::string checkOpRoundTrip(const Op& op) {
  const std::string enc = encodeOp(op);
  const Result<Op> again = decodeOp(enc);
  if (!again.isOk()) return "re-encoded op does not decode: " + again.status().toString();
  if (!sameOp(op, again.value())) return "op changed across a round trip";
  if (encodeOp(again.value()) != enc) return "op encoding is not stable";
  return {};
}

inline CodecCheck checkOpCodec(std::string_view input) {
  CodecCheck check;
  const Result<Op> op = decodeOp(input);
  check.op = op.status();
  if (op.isOk()) {
    check.failure = checkOpRoundTrip(op.value());
    if (!check.failure.empty()) return check;
  } else if (!expectedFailure(check.op)) {
    check.failure = "decodeOp failed with an unexpected code: " + check.op.toString();
    return check;
  }

  const Result<std::vector<Op>> batch = decodeBatch(input);
  check.batch = batch.status();
  if (!batch.isOk()) {
    if (!expectedFailure(check.batch))
      check.failure = "decodeBatch failed with an unexpected code: " + check.batch.toString();
    return check;
  }
  const std::vector<Op>& ops = batch.value();
  const std::string enc = encodeBatch(ops);
  const Result<std::vector<Op>> again = decodeBatch(enc);
  if (!again.isOk()) {
    check.failure = "re-encoded batch does not decode: " + again.status().toString();
    return check;
  }
  if (again.value().size() != ops.size()) {
    check.failure = "batch size changed across a round trip";
    return check;
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!sameOp(ops[i], again.value()[i])) {
      check.failure = "batch op " + std::to_string(i) + " changed across a round trip";
      return check;
    }
    check.failure = checkOpRoundTrip(ops[i]);
    if (!check.failure.empty()) return check;
  }
  if (encodeBatch(again.value()) != enc) check.failure = "batch encoding is not stable";
  return check;
}

}  // namespace charta::crdt::fuzz
