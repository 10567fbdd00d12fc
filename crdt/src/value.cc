#include "charta/crdt/value.h"

#include <bit>
#include <cmath>
#include <cstdio>

namespace charta::crdt {
namespace {

int compareReals(double a, double b) {
  const bool aNan = std::isnan(a);
  const bool bNan = std::isnan(b);
  if (aNan || bNan) {
    if (aNan && bNan) {
      const auto ab = std::bit_cast<std::uint64_t>(a);
      const auto bb = std::bit_cast<std::uint64_t>(b);
      return ab < bb ? -1 : (ab > bb ? 1 : 0);
    }
    return aNan ? 1 : -1;
  }
  if (a < b) return -1;
  if (a > b) return 1;
  // Equal numerically; tell -0.0 from 0.0 so the order stays total on bits.
  const bool aNeg = std::signbit(a);
  const bool bNeg = std::signbit(b);
  return aNeg == bNeg ? 0 : (aNeg ? -1 : 1);
}

}  // namespace

int compareValues(const Value& a, const Value& b) {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  switch (kindOf(a)) {
    case ValueKind::kNull: return 0;
    case ValueKind::kText: {
      const int c = std::get<std::string>(a).compare(std::get<std::string>(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case ValueKind::kInt: {
      const auto x = std::get<std::int64_t>(a);
      const auto y = std::get<std::int64_t>(b);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case ValueKind::kReal: return compareReals(std::get<double>(a), std::get<double>(b));
    case ValueKind::kBool: {
      const bool x = std::get<bool>(a);
      const bool y = std::get<bool>(b);
      return x == y ? 0 : (x ? 1 : -1);
    }
  }
  return 0;
}

std::string toDisplayString(const Value& v) {
  switch (kindOf(v)) {
    case ValueKind::kNull: return "(empty)";
    case ValueKind::kText: return std::get<std::string>(v);
    case ValueKind::kInt: return std::to_string(std::get<std::int64_t>(v));
    case ValueKind::kReal: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", std::get<double>(v));
      return buf;
    }
    case ValueKind::kBool: return std::get<bool>(v) ? "yes" : "no";
  }
  return {};
}

}  // namespace charta::crdt
