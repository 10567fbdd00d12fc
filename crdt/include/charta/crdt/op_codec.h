// The op codec: ops to bytes and back (docs/FORMAT.md is the specification).
//
// Two framings share one op encoding:
//  - a single op (encodeOp/decodeOp), used where ops are stored one by one;
//  - a batch (encodeBatch/decodeBatch) with shared tables of replicas, users and
//    patients and delta-coded ids and clocks, used on the wire and in bulk.
// Integers are varints (LEB128, zigzag for signed deltas), reals are IEEE-754
// little-endian: the bytes are the same on every machine.
//
// Decoding never trusts its input: truncated, oversized, out-of-range or
// trailing bytes return a kCorruption status (kUnsupportedVersion for a newer
// major format); it never asserts, throws or reads out of bounds. Fields a
// newer minor version appends to an op are skipped (each op body carries its
// length); an op of a kind a newer release added (8-15) decodes as an
// UnknownOp whose body is kept byte for byte.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/op.h"
#include "charta/crdt/status.h"

namespace charta::crdt {

inline constexpr std::uint8_t kFormatVersion = 1;

// Limits a decoder enforces (an encoder never produces more).
inline constexpr std::size_t kMaxTextBytes = 1 << 20;   // one string: 1 MiB
inline constexpr std::size_t kMaxRefs = 4096;           // preds/context per op
inline constexpr std::size_t kMaxFields = 1024;         // fields per AddEntry
inline constexpr std::size_t kMaxBatchOps = 1 << 20;    // ops per batch

// REQUIRES: the op is well formed (non-null id, ids no longer than
// kMaxIdBytes, counts within the limits above, an UnknownOp's kind 8-15). An
// op that is not still encodes, but its bytes fail to decode with
// kCorruption; they never decode to a different op.
std::string encodeOp(const Op& op);
Result<Op> decodeOp(std::string_view bytes);

std::string encodeBatch(std::span<const Op> ops);
Result<std::vector<Op>> decodeBatch(std::string_view bytes);

}  // namespace charta::crdt
