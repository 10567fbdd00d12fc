// Internal: the constants of the op wire format (docs/FORMAT.md). Not part of
// the public API; changing any value here changes the bytes on the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "charta/crdt/op.h"
#include "charta/crdt/op_codec.h"

namespace charta::crdt::codec {

// The leading format byte: major version in the high nibble, framing in the
// low nibble.
inline constexpr std::uint8_t kFramingOp = 0;
inline constexpr std::uint8_t kFramingBatch = 1;
inline constexpr std::uint8_t formatByte(std::uint8_t framing) {
  return static_cast<std::uint8_t>((kFormatVersion << 4) | framing);
}

// The tag byte that starts every op record.
inline constexpr std::uint8_t kTagKindMask = 0x0F;    // OpKind
inline constexpr std::uint8_t kTagHasContext = 0x10;  // context list follows
inline constexpr std::uint8_t kTagNewAuthor = 0x20;   // author index follows
inline constexpr std::uint8_t kTagNewPatient = 0x40;  // patient index follows
inline constexpr std::uint8_t kTagHasLogical = 0x80;  // HLC logical follows (else 0)

// Kinds 0-7 are read; 8-15 are kinds of a newer release, carried as UnknownOp.
inline constexpr std::size_t kKnownOpKindCount = std::variant_size_v<OpBody> - 1;
static_assert(kKnownOpKindCount == kFirstNewerOpKind);
static_assert(kLastNewerOpKind == kTagKindMask);

// A value starts with a varint header: kind in the low 3 bits, a small payload
// (text length, bool) above them.
inline constexpr unsigned kValueKindBits = 3;
inline constexpr std::uint64_t kValueKindMask = (1u << kValueKindBits) - 1;

// A collection and field id share one varint in WriteField: field << 3 | collection.
inline constexpr unsigned kCollectionBits = 3;
static_assert(kCollectionCount <= (1u << kCollectionBits));

// AppendObservation flags: category in the low 2 bits, then the range bounds.
inline constexpr std::uint64_t kObsCategoryMask = 0x03;
inline constexpr std::uint64_t kObsHasLow = 0x04;
inline constexpr std::uint64_t kObsHasHigh = 0x08;

// No op record is shorter: tag, length, replica index, wall delta and at
// least one body byte.
inline constexpr std::size_t kMinOpRecordBytes = 5;

// Deltas are taken modulo 2^64, so every pair of values round-trips.
inline std::int64_t delta(std::uint64_t value, std::uint64_t base) { return static_cast<std::int64_t>(value - base); }
inline std::uint64_t undelta(std::uint64_t base, std::int64_t d) { return base + static_cast<std::uint64_t>(d); }

inline std::string str(std::uint64_t v) { return std::to_string(v); }

}  // namespace charta::crdt::codec
