// JSON: the document type, a strict iterative parser, the writer and the
// request object reader. See json.h for the contract.
//
// The parser keeps its own stack of open containers instead of recursing, so
// no input (and no depth limit a caller picks) can exhaust the call stack.

#include "json.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <system_error>
#include <unordered_set>

namespace charta::server::json {

namespace {

constexpr std::size_t kLinearKeyCheck = 16;                // objects larger than this use a set
constexpr std::size_t kKeyInMessage = 64;                  // bytes of a key quoted in a message
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence whose lead byte (>= 0x80) is s[i],
// or 0 when it is not well formed (overlong forms, surrogates, > U+10FFFF,
// stray continuation bytes, truncation).
std::size_t utf8Length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    len = 3;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else {
    return 0;
  }
  if (len > s.size() - i) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  const auto put = [&](std::uint32_t b) { out.push_back(static_cast<char>(static_cast<unsigned char>(b))); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

void writeString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8Length(s, i);
      if (len == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
}

void writeValue(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull: out += "null"; return;
    case Value::Type::kBool: out += *v.asBool() ? "true" : "false"; return;
    case Value::Type::kNumber: {
      char buf[64];
      if (const std::optional<std::int64_t> i = v.asInt()) {
        const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, *i);
        out.append(buf, r.ptr);
        return;
      }
      const double d = *v.asDouble();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, d);
      const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
      out += text;
      if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
      return;
    }
    case Value::Type::kString: writeString(out, *v.asString()); return;
    case Value::Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : *v.asArray()) {
        if (!first) out.push_back(',');
        first = false;
        writeValue(out, item);
      }
      out.push_back(']');
      return;
    }
    case Value::Type::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : *v.asObject()) {
        if (!first) out.push_back(',');
        first = false;
        writeString(out, key);
        out.push_back(':');
        writeValue(out, item);
      }
      out.push_back('}');
      return;
    }
  }
}

// ---------------------------------------------------------------- parser

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : m_text(text), m_limits(limits) {}

  Result<Value> run();

 private:
  // One open container.
  struct Frame {
    Value container;                       // array or object
    std::string key;                       // object: the member being read
    std::unordered_set<std::string> keys;  // object: keys, once it is large
  };

  Status error(std::size_t at, std::string_view what) const {
    return Status::corruption("offset " + std::to_string(at) + ": " + std::string(what));
  }
  bool at(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }
  void skipWhitespace();
  Status parseScalar(Value& out);
  Status parseKey(Frame& frame);
  Status parseString(std::string& out);
  Status parseEscape(std::size_t& i, std::string& out) const;
  Status parseNumber(Value& out);
  bool readHex4(std::size_t i, std::uint32_t& cp) const;

  std::string_view m_text;
  const ParseLimits& m_limits;
  std::size_t m_pos = 0;
};

void Parser::skipWhitespace() {
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    ++m_pos;
  }
}

Result<Value> Parser::run() {
  if (m_text.size() > m_limits.maxBytes) {
    return error(m_limits.maxBytes, "expected at most " + std::to_string(m_limits.maxBytes) + " bytes");
  }
  std::vector<Frame> stack;
  for (;;) {
    // A value is expected here.
    skipWhitespace();
    Value v;
    bool complete = true;
    if (at('[') || at('{')) {
      const bool isArray = at('[');
      if (stack.size() >= m_limits.maxDepth) {
        return error(m_pos, "expected at most " + std::to_string(m_limits.maxDepth) + " levels of nesting");
      }
      ++m_pos;
      skipWhitespace();
      if (at(isArray ? ']' : '}')) {
        ++m_pos;
        v = isArray ? Value::array() : Value::object();
      } else {
        stack.emplace_back();
        stack.back().container = isArray ? Value::array() : Value::object();
        if (!isArray) {
          if (Status s = parseKey(stack.back()); !s.isOk()) return s;
        }
        complete = false;
      }
    } else if (Status s = parseScalar(v); !s.isOk()) {
      return s;
    }
    if (!complete) continue;

    // Hand the value to its container, closing every container that ends.
    for (;;) {
      if (stack.empty()) {
        skipWhitespace();
        if (m_pos != m_text.size()) return error(m_pos, "expected end of input");
        return v;
      }
      Frame& top = stack.back();
      const bool isArray = top.container.isArray();
      if (isArray) {
        top.container.asArray()->push_back(std::move(v));
      } else {
        top.container.asObject()->emplace_back(std::move(top.key), std::move(v));
      }
      skipWhitespace();
      if (at(',')) {
        ++m_pos;
        if (!isArray) {
          skipWhitespace();
          if (Status s = parseKey(top); !s.isOk()) return s;
        }
        break;  // the next element
      }
      if (at(isArray ? ']' : '}')) {
        ++m_pos;
        v = std::move(top.container);
        stack.pop_back();
        continue;
      }
      return error(m_pos, isArray ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
}

Status Parser::parseScalar(Value& out) {
  if (m_pos >= m_text.size()) return error(m_pos, "expected a value");
  const char c = m_text[m_pos];
  if (c == '"') {
    std::string s;
    if (Status st = parseString(s); !st.isOk()) return st;
    out = Value(std::move(s));
    return Status::ok();
  }
  if (c == '-' || isDigit(c)) return parseNumber(out);
  const std::string_view rest = m_text.substr(m_pos);
  for (const std::string_view literal : {"true", "false", "null"}) {
    if (rest.substr(0, literal.size()) == literal) {
      m_pos += literal.size();
      out = literal == "null" ? Value() : Value(literal == "true");
      return Status::ok();
    }
  }
  return error(m_pos, "expected a value");
}

Status Parser::parseKey(Frame& frame) {
  if (!at('"')) return error(m_pos, "expected a string key");
  const std::size_t start = m_pos;
  frame.key.clear();
  if (Status s = parseString(frame.key); !s.isOk()) return s;
  const Object& members = *frame.container.asObject();
  bool duplicate = false;
  if (members.size() < kLinearKeyCheck) {
    for (const auto& member : members) duplicate = duplicate || member.first == frame.key;
  } else {
    if (frame.keys.empty()) {
      for (const auto& member : members) frame.keys.insert(member.first);
    }
    duplicate = !frame.keys.insert(frame.key).second;
  }
  if (duplicate) return error(start, "duplicate key " + quote(frame.key.substr(0, kKeyInMessage)));
  skipWhitespace();
  if (!at(':')) return error(m_pos, "expected ':'");
  ++m_pos;
  return Status::ok();
}

bool Parser::readHex4(std::size_t i, std::uint32_t& cp) const {
  if (i > m_text.size() || m_text.size() - i < 4) return false;
  cp = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const char c = m_text[i + k];
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    cp = cp * 16 + digit;
  }
  return true;
}

// m_text[i] is the backslash; advances i past the escape.
Status Parser::parseEscape(std::size_t& i, std::string& out) const {
  if (i + 1 >= m_text.size()) return error(i + 1, "expected an escape character");
  const char e = m_text[i + 1];
  char plain = 0;
  switch (e) {
    case '"': plain = '"'; break;
    case '\\': plain = '\\'; break;
    case '/': plain = '/'; break;
    case 'b': plain = '\b'; break;
    case 'f': plain = '\f'; break;
    case 'n': plain = '\n'; break;
    case 'r': plain = '\r'; break;
    case 't': plain = '\t'; break;
    case 'u': break;
    default: return error(i + 1, "expected one of \"\\/bfnrtu after '\\'");
  }
  if (e != 'u') {
    out.push_back(plain);
    i += 2;
    return Status::ok();
  }
  std::uint32_t cp = 0;
  if (!readHex4(i + 2, cp)) return error(i + 2, "expected 4 hex digits after \\u");
  if (cp >= 0xDC00 && cp <= 0xDFFF) return error(i, "expected a high surrogate before a low surrogate");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    std::uint32_t low = 0;
    const std::size_t next = i + 6;
    if (m_text.substr(next, 2) != "\\u" || !readHex4(next + 2, low) || low < 0xDC00 || low > 0xDFFF) {
      return error(next, "expected a low surrogate escape after a high surrogate");
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    i += 12;
  } else {
    i += 6;
  }
  appendUtf8(out, cp);
  return Status::ok();
}

Status Parser::parseString(std::string& out) {
  const std::size_t start = m_pos;
  std::size_t i = m_pos + 1;  // past the quote
  for (;;) {
    // A run of plain ASCII.
    std::size_t run = i;
    while (run < m_text.size()) {
      const auto c = static_cast<unsigned char>(m_text[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(m_text.substr(i, run - i));
    i = run;
    if (out.size() > m_limits.maxStringBytes) {
      return error(start, "expected a string of at most " + std::to_string(m_limits.maxStringBytes) + " bytes");
    }
    if (i >= m_text.size()) return error(i, "expected '\"' to end the string");
    const auto c = static_cast<unsigned char>(m_text[i]);
    if (c == '"') {
      m_pos = i + 1;
      return Status::ok();
    }
    if (c == '\\') {
      if (Status s = parseEscape(i, out); !s.isOk()) return s;
    } else if (c < 0x20) {
      return error(i, "expected an escape, not a raw control character");
    } else {
      const std::size_t len = utf8Length(m_text, i);
      if (len == 0) return error(i, "expected valid UTF-8");
      out.append(m_text.substr(i, len));
      i += len;
    }
  }
}

Status Parser::parseNumber(Value& out) {
  const std::size_t start = m_pos;
  const std::size_t n = m_text.size();
  std::size_t i = m_pos;
  const bool negative = m_text[i] == '-';
  if (negative) ++i;
  if (i >= n || !isDigit(m_text[i])) return error(i, "expected a digit");
  const std::size_t intStart = i;
  if (m_text[i] == '0') {
    ++i;
    if (i < n && isDigit(m_text[i])) return error(i - 1, "expected no leading zero");
  } else {
    while (i < n && isDigit(m_text[i])) ++i;
  }
  const std::size_t intEnd = i;
  std::size_t fracStart = i;
  std::size_t fracEnd = i;
  bool integral = true;
  if (i < n && m_text[i] == '.') {
    integral = false;
    ++i;
    if (i >= n || !isDigit(m_text[i])) return error(i, "expected a digit after '.'");
    fracStart = i;
    while (i < n && isDigit(m_text[i])) ++i;
    fracEnd = i;
  }
  std::int64_t exponent = 0;
  if (i < n && (m_text[i] == 'e' || m_text[i] == 'E')) {
    integral = false;
    ++i;
    bool negativeExponent = false;
    if (i < n && (m_text[i] == '+' || m_text[i] == '-')) {
      negativeExponent = m_text[i] == '-';
      ++i;
    }
    if (i >= n || !isDigit(m_text[i])) return error(i, "expected a digit in the exponent");
    while (i < n && isDigit(m_text[i])) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (m_text[i] - '0');
      ++i;
    }
    if (negativeExponent) exponent = -exponent;
  }
  const char* first = m_text.data() + start;
  const char* last = m_text.data() + i;
  m_pos = i;

  if (integral) {
    std::int64_t value = 0;
    const std::from_chars_result r = std::from_chars(first, last, value);
    if (r.ec == std::errc() && r.ptr == last) {
      out = Value(value);
      return Status::ok();
    }
  }
  double d = 0;
  const std::from_chars_result r = std::from_chars(first, last, d);
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow or underflow: the decimal exponent of the first nonzero digit
    // tells which. Underflow reads as a signed zero.
    std::int64_t magnitude = exponent;
    std::size_t k = intStart;
    while (k < intEnd && m_text[k] == '0') ++k;
    if (k < intEnd) {
      magnitude += static_cast<std::int64_t>(intEnd - k) - 1;
    } else {
      k = fracStart;
      while (k < fracEnd && m_text[k] == '0') ++k;
      magnitude -= static_cast<std::int64_t>(k - fracStart) + 1;
    }
    if (magnitude > 0) return error(start, "expected a number within the range of a double");
    d = negative ? -0.0 : 0.0;
  } else if (r.ec != std::errc() || r.ptr != last) {
    return error(start, "expected a number");
  }
  out = Value(d);
  return Status::ok();
}

}  // namespace

// ---------------------------------------------------------------- Value

Value::Value(bool b) : m_v(b) {}
Value::Value(int v) : m_v(Number{static_cast<double>(v), v}) {}
Value::Value(std::int64_t v) : m_v(Number{static_cast<double>(v), v}) {}
Value::Value(std::uint64_t v) {
  if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    m_v = Number{static_cast<double>(v), static_cast<std::int64_t>(v)};
  } else {
    m_v = Number{static_cast<double>(v), std::nullopt};
  }
}
Value::Value(double v) : m_v(Number{v, std::nullopt}) {}
Value::Value(const char* s) : m_v(std::string(s != nullptr ? s : "")) {}
Value::Value(std::string s) : m_v(std::move(s)) {}
Value::Value(std::string_view s) : m_v(std::string(s)) {}
Value::Value(Array a) : m_v(std::move(a)) {}
Value::Value(Object o) : m_v(std::move(o)) {}

Value::Type Value::type() const {
  switch (m_v.index()) {
    case 1: return Type::kBool;
    case 2: return Type::kNumber;
    case 3: return Type::kString;
    case 4: return Type::kArray;
    case 5: return Type::kObject;
    default: return Type::kNull;
  }
}

std::optional<bool> Value::asBool() const {
  if (const bool* b = std::get_if<bool>(&m_v)) return *b;
  return std::nullopt;
}

std::optional<std::int64_t> Value::asInt() const {
  if (const Number* n = std::get_if<Number>(&m_v)) return n->i;
  return std::nullopt;
}

std::optional<double> Value::asDouble() const {
  if (const Number* n = std::get_if<Number>(&m_v)) return n->d;
  return std::nullopt;
}

const std::string* Value::asString() const { return std::get_if<std::string>(&m_v); }
const Array* Value::asArray() const { return std::get_if<Array>(&m_v); }
const Object* Value::asObject() const { return std::get_if<Object>(&m_v); }
Array* Value::asArray() { return std::get_if<Array>(&m_v); }
Object* Value::asObject() { return std::get_if<Object>(&m_v); }

const Value* Value::find(std::string_view key) const {
  if (const Object* o = asObject()) {
    for (const auto& [k, v] : *o) {
      if (k == key) return &v;
    }
  }
  return nullptr;
}

Value& Value::set(std::string key, Value v) {
  if (!isObject()) m_v = Object{};  // a broken REQUIRES still leaves a sound value
  Object& o = *asObject();
  for (auto& [k, existing] : o) {
    if (k == key) {
      existing = std::move(v);
      return existing;
    }
  }
  o.emplace_back(std::move(key), std::move(v));
  return o.back().second;
}

void Value::push(Value v) {
  if (!isArray()) m_v = Array{};
  asArray()->push_back(std::move(v));
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kNull: return true;
    case Value::Type::kBool: return *a.asBool() == *b.asBool();
    case Value::Type::kNumber: {
      const auto& x = std::get<Value::Number>(a.m_v);
      const auto& y = std::get<Value::Number>(b.m_v);
      if (x.i.has_value() != y.i.has_value()) return false;
      return x.i.has_value() ? *x.i == *y.i : x.d == y.d;
    }
    case Value::Type::kString: return *a.asString() == *b.asString();
    case Value::Type::kArray: return *a.asArray() == *b.asArray();
    case Value::Type::kObject: return *a.asObject() == *b.asObject();
  }
  return false;
}

// ---------------------------------------------------------------- functions

Result<Value> parse(std::string_view text, const ParseLimits& limits) { return Parser(text, limits).run(); }

std::string serialize(const Value& v) {
  std::string out;
  writeValue(out, v);
  return out;
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  writeString(out, s);
  return out;
}

// ---------------------------------------------------------------- ObjectReader

ObjectReader::ObjectReader(const Value& v, std::string where) : m_v(v), m_where(std::move(where)) {
  if (!m_v.isObject()) m_error = Status::invalidArgument(m_where + ": expected an object");
}

void ObjectReader::fail(std::string_view key, std::string_view problem) {
  if (m_error) return;
  m_error = Status::invalidArgument(m_where + "." + std::string(key) + ": " + std::string(problem));
}

const Value* ObjectReader::optionalValue(std::string_view key) {
  bool known = false;
  for (const std::string& k : m_known) known = known || k == key;
  if (!known) m_known.emplace_back(key);
  return m_v.find(key);
}

std::string ObjectReader::requiredString(std::string_view key, std::size_t maxBytes) {
  const Value* v = optionalValue(key);
  if (v == nullptr || v->isNull()) {
    fail(key, v == nullptr ? "missing" : "expected a string");
    return {};
  }
  return optionalString(key, maxBytes).value_or(std::string());
}

std::optional<std::string> ObjectReader::optionalString(std::string_view key, std::size_t maxBytes) {
  const Value* v = optionalValue(key);
  if (v == nullptr || v->isNull()) return std::nullopt;
  const std::string* s = v->asString();
  if (s == nullptr) {
    fail(key, "expected a string");
    return std::nullopt;
  }
  if (s->size() > maxBytes) {
    fail(key, "expected a string of at most " + std::to_string(maxBytes) + " bytes");
    return std::nullopt;
  }
  return *s;
}

std::int64_t ObjectReader::requiredInt(std::string_view key, std::int64_t min, std::int64_t max) {
  const Value* v = optionalValue(key);
  if (v == nullptr || v->isNull()) {
    fail(key, v == nullptr ? "missing"
                           : "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return min;
  }
  return optionalInt(key, min, max).value_or(min);
}

std::optional<std::int64_t> ObjectReader::optionalInt(std::string_view key, std::int64_t min, std::int64_t max) {
  const Value* v = optionalValue(key);
  if (v == nullptr || v->isNull()) return std::nullopt;
  const std::optional<std::int64_t> i = v->asInt();
  if (!i || *i < min || *i > max) {
    fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return std::nullopt;
  }
  return i;
}

std::optional<bool> ObjectReader::optionalBool(std::string_view key) {
  const Value* v = optionalValue(key);
  if (v == nullptr || v->isNull()) return std::nullopt;
  const std::optional<bool> b = v->asBool();
  if (!b) fail(key, "expected a boolean");
  return b;
}

Status ObjectReader::finish() {
  if (m_error) return *m_error;
  for (const auto& [key, value] : *m_v.asObject()) {
    bool known = false;
    for (const std::string& k : m_known) known = known || k == key;
    if (!known) {
      m_error = Status::invalidArgument(m_where + ": unknown member " + quote(key.substr(0, kKeyInMessage)));
      return *m_error;
    }
  }
  return Status::ok();
}

}  // namespace charta::server::json
