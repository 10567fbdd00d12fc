// Value: what a chart field holds.
//
// Null, text, integer, real or boolean. Dates are ISO-8601 text
// ("2024-03-01"), instants are integer milliseconds since the epoch, codes are
// text ("http://loinc.org|8302-2"), statuses are integers (see schema.h).
// Values have a total order (by kind, then content; reals by their bit pattern
// where needed) so merges can sort them deterministically.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace charta::crdt {

using Value = std::variant<std::monostate, std::string, std::int64_t, double, bool>;

enum class ValueKind : std::uint8_t { kNull = 0, kText = 1, kInt = 2, kReal = 3, kBool = 4 };

inline ValueKind kindOf(const Value& v) { return static_cast<ValueKind>(v.index()); }

// Total order used in canonical state: kind first, then content. Reals compare
// by value, with NaN after every number and -0.0 == 0.0 treated by bit pattern.
int compareValues(const Value& a, const Value& b);
inline bool sameValue(const Value& a, const Value& b) { return compareValues(a, b) == 0; }

// Human-readable rendering for logs and conflict listings.
std::string toDisplayString(const Value& v);

}  // namespace charta::crdt
