#pragma once

// JSON (RFC 8259) for the HTTP API: a strict parser with limits for untrusted
// bodies, a small document type, a compact deterministic writer, and a reader
// for API request objects that refuses unknown fields.
//
// The parser never throws and never asserts on input: bad input returns
// kCorruption with the byte offset and what was expected.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "charta/crdt/status.h"

namespace charta::server::json {

using crdt::Result;
using crdt::Status;

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // members in order

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b);
  Value(int v);
  Value(std::int64_t v);
  Value(std::uint64_t v);
  Value(double v);
  Value(const char* s);
  Value(std::string s);
  Value(std::string_view s);
  Value(Array a);
  Value(Object o);

  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const;
  bool isNull() const { return type() == Type::kNull; }
  bool isBool() const { return type() == Type::kBool; }
  bool isNumber() const { return type() == Type::kNumber; }
  bool isString() const { return type() == Type::kString; }
  bool isArray() const { return type() == Type::kArray; }
  bool isObject() const { return type() == Type::kObject; }

  // Typed access; nullopt / nullptr when the type differs. asInt() holds only
  // for numbers written without fraction or exponent that fit int64.
  std::optional<bool> asBool() const;
  std::optional<std::int64_t> asInt() const;
  std::optional<double> asDouble() const;
  const std::string* asString() const;
  const Array* asArray() const;
  const Object* asObject() const;
  Array* asArray();
  Object* asObject();

  // Object members: find returns nullptr when absent or not an object; set
  // replaces an existing member or appends. REQUIRES (set): isObject().
  const Value* find(std::string_view key) const;
  Value& set(std::string key, Value v);
  // REQUIRES: isArray().
  void push(Value v);

  // Deep equality. Numbers are equal when both are exact integers with the
  // same value or both are doubles that compare equal: 3 != 3.0.
  friend bool operator==(const Value&, const Value&);

 private:
  struct Number {
    double d = 0;
    std::optional<std::int64_t> i;  // set when the number is an exact integer
  };
  std::variant<std::monostate, bool, Number, std::string, Array, Object> m_v;
};

// The parser itself never recurses; maxDepth also bounds the recursion of
// serialize(), operator== and destruction on what it returns, so keep it in
// the hundreds at most.
struct ParseLimits {
  std::size_t maxBytes = 32u << 20;
  std::size_t maxDepth = 64;
  std::size_t maxStringBytes = 4u << 20;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Rejects
// duplicate object keys, invalid UTF-8, lone surrogates, NaN/Infinity,
// leading zeros, trailing commas and anything after the value.
Result<Value> parse(std::string_view text, const ParseLimits& limits = {});

// Compact, no insignificant whitespace, members in their stored order, exact
// integers as integers, doubles with the shortest round-tripping form (".0"
// added to integral doubles so they read back as doubles; NaN and infinities,
// which JSON cannot hold, as null). Strings keep valid UTF-8 as is, escape
// '"', '\\' and control characters (\u00XX), and replace each byte of invalid
// UTF-8 with U+FFFD, so the output always parses.
std::string serialize(const Value& v);
// A JSON string literal with quotes (escaped as above).
std::string quote(std::string_view s);

// Reads the members of one API request object. Each getter marks its key as
// known; finish() fails when the object had a key nobody asked for, or when a
// getter found a wrong type or a missing required member (the first such
// problem, naming the member path, e.g. "login.password: expected a string").
// Problems are kInvalidArgument. A getter that fails returns an empty string,
// `min`, or nullopt; optional getters treat a JSON null like an absent member.
class ObjectReader {
 public:
  // `where` prefixes messages ("body", "ops[3]").
  ObjectReader(const Value& v, std::string where);

  std::string requiredString(std::string_view key, std::size_t maxBytes = 4096);
  std::optional<std::string> optionalString(std::string_view key, std::size_t maxBytes = 4096);
  std::int64_t requiredInt(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> optionalInt(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<bool> optionalBool(std::string_view key);
  const Value* optionalValue(std::string_view key);  // any type

  Status finish();

 private:
  void fail(std::string_view key, std::string_view problem);

  const Value& m_v;
  std::string m_where;
  std::vector<std::string> m_known;
  std::optional<Status> m_error;
};

}  // namespace charta::server::json
