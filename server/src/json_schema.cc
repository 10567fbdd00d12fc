#include "json_schema.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace charta::server::jsonschema {

using crdt::Result;
using crdt::Status;

namespace {

// ---------------------------------------------------------------------------
// Regular expressions: an ECMA-262 subset compiled to a Thompson NFA program
// and run as a Pike VM (a set of threads advanced one code point at a time).
// Time is O(string length x program size); memory is O(program size); no
// recursion while matching.

// UTF-8 decoding for the matcher. Strings from json::parse are valid UTF-8;
// a stray byte elsewhere reads as U+FFFD and the matcher moves on one byte.
char32_t decodeUtf8(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3Fu);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

// ECMA-262 WhiteSpace and LineTerminator: what \s matches.
bool isEcmaSpace(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
  return c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}
bool isDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isWord(char32_t c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isLineTerminator(char32_t c) { return c == 0x0A || c == 0x0D || c == 0x2028 || c == 0x2029; }

class CharClass {
 public:
  enum class Builtin : std::uint8_t { kSpace, kNotSpace, kDigit, kNotDigit, kWord, kNotWord, kNotLineTerminator };

  void addRange(char32_t lo, char32_t hi) { m_ranges.emplace_back(lo, hi); }
  void addBuiltin(Builtin b) { m_builtins.push_back(b); }
  void setNegated(bool negated) { m_negated = negated; }
  // Call once every item is in: fills the ASCII table.
  void finish() {
    for (char32_t c = 0; c < 128; ++c) {
      if (slowMatch(c)) m_ascii[c >> 6] |= std::uint64_t{1} << (c & 63);
    }
  }

  bool matches(char32_t c) const {
    if (c < 128) return (m_ascii[c >> 6] >> (c & 63)) & 1u;
    return slowMatch(c);
  }

 private:
  bool slowMatch(char32_t c) const {
    bool in = false;
    for (const auto& [lo, hi] : m_ranges) {
      if (c >= lo && c <= hi) {
        in = true;
        break;
      }
    }
    for (std::size_t k = 0; !in && k < m_builtins.size(); ++k) {
      switch (m_builtins[k]) {
        case Builtin::kSpace: in = isEcmaSpace(c); break;
        case Builtin::kNotSpace: in = !isEcmaSpace(c); break;
        case Builtin::kDigit: in = isDigit(c); break;
        case Builtin::kNotDigit: in = !isDigit(c); break;
        case Builtin::kWord: in = isWord(c); break;
        case Builtin::kNotWord: in = !isWord(c); break;
        case Builtin::kNotLineTerminator: in = !isLineTerminator(c); break;
      }
    }
    return in != m_negated;
  }

  std::vector<std::pair<char32_t, char32_t>> m_ranges;
  std::vector<Builtin> m_builtins;
  bool m_negated = false;
  std::array<std::uint64_t, 2> m_ascii{};
};

// Scratch space for one thread's matching, reused across calls.
struct MatchScratch {
  std::vector<std::uint32_t> mark;  // per instruction: the step that last added it
  std::vector<std::uint32_t> current, next, stack;
  std::uint32_t step = 0;
};

class Regex {
 public:
  static Result<Regex> compile(std::string_view pattern);

  // Whether the pattern occurs anywhere in `s` (ECMA-262 RegExp.prototype.test
  // without flags).
  bool search(std::string_view s, MatchScratch& scratch) const;

 private:
  enum class Op : std::uint8_t { kClass, kSplit, kJmp, kBol, kEol, kMatch };
  struct Inst {
    Op op;
    std::uint32_t x = 0;  // kClass: class index; kSplit, kJmp: target
    std::uint32_t y = 0;  // kSplit: second target
  };

  // The parsed form, lowered to instructions by emit().
  struct Node {
    enum class Kind : std::uint8_t { kEmpty, kClass, kBol, kEol, kConcat, kAlt, kRepeat };
    Kind kind = Kind::kEmpty;
    std::uint32_t cls = 0;
    int min = 0, max = 0;  // kRepeat; max -1 for no bound
    std::vector<std::unique_ptr<Node>> kids;
  };
  class Parser;

  Status emit(const Node& n);
  std::uint32_t pc() const { return static_cast<std::uint32_t>(m_prog.size()); }
  // Adds pc and everything reachable from it without consuming input; true
  // when that reaches kMatch.
  bool addThread(std::vector<std::uint32_t>& list, std::uint32_t start, std::size_t pos, std::size_t len,
                 MatchScratch& scratch) const;

  std::vector<Inst> m_prog;
  std::vector<CharClass> m_classes;
  bool m_anchored = false;  // every match starts at position 0
};

constexpr std::size_t kMaxProgram = 50000;
constexpr int kMaxRepeat = 1000;
constexpr int kMaxRegexNesting = 200;

class Regex::Parser {
 public:
  Parser(std::string_view p, std::vector<CharClass>& classes) : m_p(p), m_classes(classes) {}

  Result<std::unique_ptr<Node>> parseAll() {
    auto n = parseAlt(0);
    if (!m_error.empty()) return Status::invalidArgument(m_error);
    if (m_i < m_p.size()) return Status::invalidArgument("unbalanced ')' at offset " + std::to_string(m_i));
    return n;
  }

 private:
  void fail(std::string msg) {
    if (m_error.empty()) m_error = std::move(msg) + " at offset " + std::to_string(m_i);
  }
  bool atEnd() const { return m_i >= m_p.size(); }
  char peek() const { return m_p[m_i]; }

  std::unique_ptr<Node> make(Node::Kind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    return n;
  }

  std::unique_ptr<Node> parseAlt(int depth) {
    if (depth > kMaxRegexNesting) {
      fail("groups nested too deeply");
      return make(Node::Kind::kEmpty);
    }
    auto first = parseConcat(depth);
    if (atEnd() || peek() != '|') return first;
    auto alt = make(Node::Kind::kAlt);
    alt->kids.push_back(std::move(first));
    while (!atEnd() && peek() == '|' && m_error.empty()) {
      ++m_i;
      alt->kids.push_back(parseConcat(depth));
    }
    return alt;
  }

  std::unique_ptr<Node> parseConcat(int depth) {
    auto cat = make(Node::Kind::kConcat);
    while (!atEnd() && peek() != '|' && peek() != ')' && m_error.empty()) {
      auto atom = parseAtom(depth);
      if (!m_error.empty()) break;
      atom = parseQuantifiers(std::move(atom));
      cat->kids.push_back(std::move(atom));
    }
    return cat;
  }

  // {n}, {n,}, {n,m} at m_i; false (m_i unchanged) when the text there is not
  // one (then '{' is a literal, as browsers read it).
  bool parseBraces(int& min, int& max) {
    std::size_t j = m_i + 1;
    auto number = [&](int& out) {
      const std::size_t start = j;
      long v = 0;
      while (j < m_p.size() && m_p[j] >= '0' && m_p[j] <= '9') {
        v = std::min<long>(v * 10 + (m_p[j] - '0'), 1000000);
        ++j;
      }
      out = static_cast<int>(v);
      return j > start;
    };
    if (!number(min)) return false;
    max = min;
    if (j < m_p.size() && m_p[j] == ',') {
      ++j;
      if (!number(max)) max = -1;
    }
    if (j >= m_p.size() || m_p[j] != '}') return false;
    m_i = j + 1;
    return true;
  }

  bool bracesAhead() {
    const std::size_t at = m_i;
    int min = 0, max = 0;
    const bool yes = parseBraces(min, max);
    m_i = at;
    return yes;
  }

  // At most one quantifier per atom: "a**" is a syntax error in ECMA-262.
  std::unique_ptr<Node> parseQuantifiers(std::unique_ptr<Node> atom) {
    if (atEnd()) return atom;
    int min = 0, max = 0;
    const char c = peek();
    if (c == '*') {
      min = 0, max = -1, ++m_i;
    } else if (c == '+') {
      min = 1, max = -1, ++m_i;
    } else if (c == '?') {
      min = 0, max = 1, ++m_i;
    } else if (c != '{' || !parseBraces(min, max)) {
      return atom;
    }
    if (!atEnd() && peek() == '?') ++m_i;  // lazy: the same for a yes/no answer
    if (atom->kind == Node::Kind::kBol || atom->kind == Node::Kind::kEol) {
      fail("an anchor cannot be repeated");
      return atom;
    }
    if (min > kMaxRepeat || max > kMaxRepeat) {
      fail("repeat count above " + std::to_string(kMaxRepeat));
      return atom;
    }
    if (max != -1 && max < min) {
      fail("repeat range out of order");
      return atom;
    }
    if (!atEnd() && (peek() == '*' || peek() == '+' || peek() == '?' || (peek() == '{' && bracesAhead()))) {
      fail("nothing to repeat");
      return atom;
    }
    auto rep = make(Node::Kind::kRepeat);
    rep->min = min;
    rep->max = max;
    rep->kids.push_back(std::move(atom));
    return rep;
  }

  std::unique_ptr<Node> classNode(CharClass cls) {
    cls.finish();
    m_classes.push_back(std::move(cls));
    auto n = make(Node::Kind::kClass);
    n->cls = static_cast<std::uint32_t>(m_classes.size() - 1);
    return n;
  }

  // One code point of the pattern (UTF-8).
  char32_t literal() { return decodeUtf8(m_p, m_i); }

  std::optional<char32_t> hexDigits(int count) {
    char32_t v = 0;
    for (int k = 0; k < count; ++k) {
      if (atEnd()) return std::nullopt;
      const char c = peek();
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<char32_t>(d);
      ++m_i;
    }
    return v;
  }

  // After a backslash: either a builtin class or one code point. `inClass`
  // reads \b as backspace.
  struct Escape {
    std::optional<CharClass::Builtin> builtin;
    char32_t c = 0;
  };
  std::optional<Escape> parseEscape(bool inClass) {
    if (atEnd()) {
      fail("pattern ends with '\\'");
      return std::nullopt;
    }
    const char c = peek();
    Escape e;
    switch (c) {
      case 'd': e.builtin = CharClass::Builtin::kDigit; break;
      case 'D': e.builtin = CharClass::Builtin::kNotDigit; break;
      case 's': e.builtin = CharClass::Builtin::kSpace; break;
      case 'S': e.builtin = CharClass::Builtin::kNotSpace; break;
      case 'w': e.builtin = CharClass::Builtin::kWord; break;
      case 'W': e.builtin = CharClass::Builtin::kNotWord; break;
      case 't': e.c = '\t'; break;
      case 'n': e.c = '\n'; break;
      case 'r': e.c = '\r'; break;
      case 'f': e.c = '\f'; break;
      case 'v': e.c = '\v'; break;
      case '0': e.c = 0; break;
      case 'x':
      case 'u': {
        ++m_i;
        const auto v = hexDigits(c == 'x' ? 2 : 4);
        if (!v) {
          fail(std::string("bad \\") + c + " escape");
          return std::nullopt;
        }
        e.c = *v;
        return e;
      }
      case 'b':
        if (inClass) {
          e.c = '\b';
          break;
        }
        [[fallthrough]];
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '1' && c <= '9')) {
          fail(std::string("unsupported escape \\") + c);
          return std::nullopt;
        }
        e.c = literal();  // an escaped punctuation character stands for itself
        return e;
    }
    ++m_i;
    return e;
  }

  std::unique_ptr<Node> parseClass() {
    CharClass cls;
    if (!atEnd() && peek() == '^') {
      cls.setNegated(true);
      ++m_i;
    }
    while (m_error.empty()) {
      if (atEnd()) {
        fail("unterminated '['");
        break;
      }
      if (peek() == ']') {
        ++m_i;
        break;
      }
      Escape lo;
      if (peek() == '\\') {
        ++m_i;
        auto e = parseEscape(true);
        if (!e) break;
        lo = *e;
      } else {
        lo.c = literal();
      }
      if (lo.builtin) {
        cls.addBuiltin(*lo.builtin);
        continue;
      }
      // A range, unless '-' is the last character of the class.
      if (m_i + 1 < m_p.size() && peek() == '-' && m_p[m_i + 1] != ']') {
        ++m_i;
        Escape hi;
        if (peek() == '\\') {
          ++m_i;
          auto e = parseEscape(true);
          if (!e) break;
          hi = *e;
        } else {
          hi.c = literal();
        }
        if (hi.builtin) {
          fail("a class escape cannot end a range");
          break;
        }
        if (hi.c < lo.c) {
          fail("range out of order");
          break;
        }
        cls.addRange(lo.c, hi.c);
      } else {
        cls.addRange(lo.c, lo.c);
      }
    }
    return classNode(std::move(cls));
  }

  std::unique_ptr<Node> parseAtom(int depth) {
    const char c = peek();
    switch (c) {
      case '^': ++m_i; return make(Node::Kind::kBol);
      case '$': ++m_i; return make(Node::Kind::kEol);
      case '.': {
        ++m_i;
        CharClass cls;
        cls.addBuiltin(CharClass::Builtin::kNotLineTerminator);
        return classNode(std::move(cls));
      }
      case '[': ++m_i; return parseClass();
      case '(': {
        ++m_i;
        if (!atEnd() && peek() == '?') {
          if (m_i + 1 < m_p.size() && m_p[m_i + 1] == ':') {
            m_i += 2;
          } else {
            fail("unsupported group (look-around or named)");
            return make(Node::Kind::kEmpty);
          }
        }
        auto inner = parseAlt(depth + 1);
        if (atEnd() || peek() != ')') {
          fail("missing ')'");
          return inner;
        }
        ++m_i;
        return inner;
      }
      case '*':
      case '+':
      case '?': fail("nothing to repeat"); return make(Node::Kind::kEmpty);
      case '\\': {
        ++m_i;
        auto e = parseEscape(false);
        if (!e) return make(Node::Kind::kEmpty);
        CharClass cls;
        if (e->builtin) {
          cls.addBuiltin(*e->builtin);
        } else {
          cls.addRange(e->c, e->c);
        }
        return classNode(std::move(cls));
      }
      default: {
        CharClass cls;
        const char32_t lit = literal();
        cls.addRange(lit, lit);
        return classNode(std::move(cls));
      }
    }
  }

  std::string_view m_p;
  std::size_t m_i = 0;
  std::vector<CharClass>& m_classes;
  std::string m_error;
};

Result<Regex> Regex::compile(std::string_view pattern) {
  Regex re;
  Parser parser(pattern, re.m_classes);
  auto tree = parser.parseAll();
  if (!tree.isOk()) return tree.status();
  const Node& root = *tree.value();
  // Anchored when the pattern is "^..." at the top (not "^a|b").
  re.m_anchored = root.kind == Node::Kind::kBol ||
                  (root.kind == Node::Kind::kConcat && !root.kids.empty() && root.kids[0]->kind == Node::Kind::kBol);
  Status st = re.emit(root);
  if (!st.isOk()) return st;
  re.m_prog.push_back({Op::kMatch});
  return re;
}

Status Regex::emit(const Node& n) {
  if (m_prog.size() > kMaxProgram) return Status::invalidArgument("pattern too large once its repeats are expanded");
  switch (n.kind) {
    case Node::Kind::kEmpty: return Status::ok();
    case Node::Kind::kClass: m_prog.push_back({Op::kClass, n.cls}); return Status::ok();
    case Node::Kind::kBol: m_prog.push_back({Op::kBol}); return Status::ok();
    case Node::Kind::kEol: m_prog.push_back({Op::kEol}); return Status::ok();
    case Node::Kind::kConcat:
      for (const auto& k : n.kids) {
        Status st = emit(*k);
        if (!st.isOk()) return st;
      }
      return Status::ok();
    case Node::Kind::kAlt: {
      // split L1, next; L1: a; jmp end; next: split L2, next2; ... last: z; end:
      std::vector<std::uint32_t> jumps;
      for (std::size_t k = 0; k < n.kids.size(); ++k) {
        const bool last = k + 1 == n.kids.size();
        std::uint32_t split = 0;
        if (!last) {
          split = pc();
          m_prog.push_back({Op::kSplit, split + 1, 0});
        }
        Status st = emit(*n.kids[k]);
        if (!st.isOk()) return st;
        if (!last) {
          jumps.push_back(pc());
          m_prog.push_back({Op::kJmp});
          m_prog[split].y = pc();
        }
      }
      for (std::uint32_t j : jumps) m_prog[j].x = pc();
      return Status::ok();
    }
    case Node::Kind::kRepeat: {
      const Node& body = *n.kids[0];
      for (int k = 0; k < n.min; ++k) {
        Status st = emit(body);
        if (!st.isOk()) return st;
      }
      if (n.max == -1) {
        // loop: split body, out; body; jmp loop; out:
        const std::uint32_t loop = pc();
        m_prog.push_back({Op::kSplit, loop + 1, 0});
        Status st = emit(body);
        if (!st.isOk()) return st;
        m_prog.push_back({Op::kJmp, loop});
        m_prog[loop].y = pc();
        return Status::ok();
      }
      // (body (body (...)?)?)? : every split skips to the same end.
      std::vector<std::uint32_t> splits;
      for (int k = n.min; k < n.max; ++k) {
        splits.push_back(pc());
        m_prog.push_back({Op::kSplit, pc() + 1, 0});
        Status st = emit(body);
        if (!st.isOk()) return st;
      }
      for (std::uint32_t s : splits) m_prog[s].y = pc();
      return Status::ok();
    }
  }
  return Status::ok();
}

bool Regex::addThread(std::vector<std::uint32_t>& list, std::uint32_t start, std::size_t pos, std::size_t len,
                      MatchScratch& scratch) const {
  auto& stack = scratch.stack;
  stack.clear();
  stack.push_back(start);
  while (!stack.empty()) {
    const std::uint32_t at = stack.back();
    stack.pop_back();
    if (scratch.mark[at] == scratch.step) continue;
    scratch.mark[at] = scratch.step;
    const Inst& in = m_prog[at];
    switch (in.op) {
      case Op::kClass: list.push_back(at); break;
      case Op::kJmp: stack.push_back(in.x); break;
      case Op::kSplit:
        stack.push_back(in.y);
        stack.push_back(in.x);
        break;
      case Op::kBol:
        if (pos == 0) stack.push_back(at + 1);
        break;
      case Op::kEol:
        if (pos == len) stack.push_back(at + 1);
        break;
      case Op::kMatch: return true;
    }
  }
  return false;
}

bool Regex::search(std::string_view s, MatchScratch& scratch) const {
  if (scratch.mark.size() < m_prog.size()) scratch.mark.resize(m_prog.size(), 0);
  auto newStep = [&scratch] {
    if (++scratch.step == 0) {  // wrapped: forget every old mark
      std::fill(scratch.mark.begin(), scratch.mark.end(), 0);
      scratch.step = 1;
    }
  };
  auto& cur = scratch.current;
  auto& next = scratch.next;
  cur.clear();
  newStep();
  if (addThread(cur, 0, 0, s.size(), scratch)) return true;
  std::size_t i = 0;
  while (i < s.size()) {
    if (cur.empty() && m_anchored) return false;
    const char32_t c = decodeUtf8(s, i);
    newStep();
    next.clear();
    for (std::uint32_t at : cur) {
      if (m_classes[m_prog[at].x].matches(c) && addThread(next, at + 1, i, s.size(), scratch)) return true;
    }
    if (!m_anchored && addThread(next, 0, i, s.size(), scratch)) return true;
    std::swap(cur, next);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Compiled schemas.

enum TypeBit : std::uint8_t {
  kTypeNull = 1,
  kTypeBoolean = 2,
  kTypeInteger = 4,
  kTypeNumber = 8,  // includes integers
  kTypeString = 16,
  kTypeArray = 32,
  kTypeObject = 64,
};

// A oneOf picked by the value of one member ("resourceType": "Patient").
struct Dispatch {
  std::string property;
  // Name to the branch's node, sorted by name.
  std::vector<std::pair<std::string, std::int32_t>> mapping;
};

// One schema. Indexes (std::int32_t) point into CompiledSchema's tables; -1
// for none.
struct Node {
  enum class Kind : std::uint8_t { kAlways, kNever, kRef, kSchema };
  Kind kind = Kind::kSchema;
  std::uint8_t types = 0;   // TypeBit mask; 0 for any
  bool objectOnly = false;  // properties / additionalProperties / required without type
  bool forbidAdditional = false;
  bool hasConst = false;
  bool hasEnum = false;
  // kRef: the node it resolves to, never another kRef.
  std::int32_t ref = -1;
  std::int32_t items = -1;
  // additionalProperties as a schema.
  std::int32_t additional = -1;
  // Into the regex table.
  std::int32_t pattern = -1;
  // Into the dispatch table: a oneOf picked by name.
  std::int32_t dispatch = -1;
  std::vector<std::pair<std::string, std::int32_t>> properties;  // sorted by name
  std::vector<std::string> required;
  std::vector<json::Value> enumValues;
  json::Value constValue;
  std::vector<std::int32_t> oneOf;
  std::string definition;   // set on the top node of #/definitions/<name>
  std::string patternWhat;  // "a FHIR date", for pattern messages; empty: show the pattern
};

std::string_view typeName(std::uint8_t bit) {
  switch (bit) {
    case kTypeNull: return "null";
    case kTypeBoolean: return "a boolean";
    case kTypeInteger: return "an integer";
    case kTypeNumber: return "a number";
    case kTypeString: return "a string";
    case kTypeArray: return "an array";
    case kTypeObject: return "an object";
    default: return "a value";
  }
}

std::string_view foundName(const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::kNull: return "null";
    case json::Value::Type::kBool: return "a boolean";
    case json::Value::Type::kNumber: return "a number";
    case json::Value::Type::kString: return "a string";
    case json::Value::Type::kArray: return "an array";
    case json::Value::Type::kObject: return "an object";
  }
  return "a value";
}

bool isInteger(const json::Value& v) {
  if (v.asInt()) return true;
  const auto d = v.asDouble();
  return d && std::isfinite(*d) && std::floor(*d) == *d;
}

bool typeMatches(std::uint8_t types, const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::kNull: return types & kTypeNull;
    case json::Value::Type::kBool: return types & kTypeBoolean;
    case json::Value::Type::kNumber: return (types & kTypeNumber) || ((types & kTypeInteger) && isInteger(v));
    case json::Value::Type::kString: return types & kTypeString;
    case json::Value::Type::kArray: return types & kTypeArray;
    case json::Value::Type::kObject: return types & kTypeObject;
  }
  return false;
}

// JSON Schema equality: 1 and 1.0 are the same number; member order does not
// matter.
bool sameJson(const json::Value& a, const json::Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::Value::Type::kNull: return true;
    case json::Value::Type::kBool: return *a.asBool() == *b.asBool();
    case json::Value::Type::kNumber: {
      const auto ia = a.asInt(), ib = b.asInt();
      if (ia && ib) return *ia == *ib;
      return *a.asDouble() == *b.asDouble();
    }
    case json::Value::Type::kString: return *a.asString() == *b.asString();
    case json::Value::Type::kArray: {
      const json::Array& x = *a.asArray();
      const json::Array& y = *b.asArray();
      if (x.size() != y.size()) return false;
      for (std::size_t k = 0; k < x.size(); ++k) {
        if (!sameJson(x[k], y[k])) return false;
      }
      return true;
    }
    case json::Value::Type::kObject: {
      const json::Object& x = *a.asObject();
      if (x.size() != b.asObject()->size()) return false;
      for (const auto& [key, value] : x) {
        const json::Value* other = b.find(key);
        if (!other || !sameJson(value, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

// Text for a message or a path, cut to about 60 bytes on a UTF-8 boundary, so
// that a hostile document cannot make its errors much larger than itself.
std::string cut(std::string_view s) {
  constexpr std::size_t kMax = 60;
  if (s.size() <= kMax) return std::string(s);
  std::size_t at = kMax;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  return std::string(s.substr(0, at)) + "...";
}

// A value for a message: strings (in single quotes when asked) or JSON, cut.
std::string shortText(const json::Value& v, bool quoteStrings) {
  if (!v.isString()) return cut(json::serialize(v));
  return quoteStrings ? "'" + cut(*v.asString()) + "'" : cut(*v.asString());
}

}  // namespace

namespace detail {

struct CompiledSchema {
  std::vector<Node> nodes;
  std::vector<Regex> regexes;
  std::vector<std::string> regexSources;
  std::vector<Dispatch> dispatches;
  std::vector<std::pair<std::string, std::int32_t>> definitions;  // sorted by name
  std::int32_t root = -1;

  std::int32_t findDefinition(std::string_view name) const {
    auto it = std::lower_bound(definitions.begin(), definitions.end(), name,
                               [](const auto& d, std::string_view n) { return d.first < n; });
    return it != definitions.end() && it->first == name ? it->second : -1;
  }
};

}  // namespace detail

namespace {

using detail::CompiledSchema;

std::string pointerEscape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

class Compiler {
 public:
  Compiler(CompiledSchema& out, const CompileOptions& options) : m_s(out), m_options(options) {}

  Status run(const json::Value& doc) {
    // Definitions first (by name, so $refs can be checked against them),
    // then the root.
    if (const json::Value* defs = doc.isObject() ? doc.find("definitions") : nullptr) {
      const json::Object* members = defs->asObject();
      if (!members) return Status::invalidArgument("#/definitions: expected an object");
      for (const auto& [name, sub] : *members) {
        auto idx = compileNode(sub, "#/definitions/" + pointerEscape(name), 0);
        if (!idx.isOk()) return idx.status();
        m_s.nodes[static_cast<std::size_t>(idx.value())].definition = name;
        m_s.definitions.emplace_back(name, idx.value());
      }
      std::sort(m_s.definitions.begin(), m_s.definitions.end());
    }
    auto root = compileNode(doc, "#", 0);
    if (!root.isOk()) return root.status();
    m_s.root = root.value();

    Status st = resolveRefs();
    if (!st.isOk()) return st;
    st = resolveDispatches();
    if (!st.isOk()) return st;
    nameInlinePatterns();
    return Status::ok();
  }

 private:
  struct PendingRef {
    std::int32_t node;
    std::string target;
    std::string where;
  };
  struct PendingMapping {
    std::int32_t dispatch;
    std::string name;
    std::string target;
    std::string where;
  };

  std::int32_t newNode() {
    m_s.nodes.emplace_back();
    return static_cast<std::int32_t>(m_s.nodes.size() - 1);
  }
  Node& node(std::int32_t i) { return m_s.nodes[static_cast<std::size_t>(i)]; }

  static Status bad(const std::string& where, std::string_view problem) {
    return Status::invalidArgument(where + ": " + std::string(problem));
  }

  Result<std::uint8_t> typeBit(const json::Value& t, const std::string& where) {
    const std::string* s = t.asString();
    if (!s) return bad(where, "type names must be strings");
    if (*s == "null") return std::uint8_t{kTypeNull};
    if (*s == "boolean") return std::uint8_t{kTypeBoolean};
    if (*s == "integer") return std::uint8_t{kTypeInteger};
    if (*s == "number") return std::uint8_t{kTypeNumber};
    if (*s == "string") return std::uint8_t{kTypeString};
    if (*s == "array") return std::uint8_t{kTypeArray};
    if (*s == "object") return std::uint8_t{kTypeObject};
    return bad(where, "unknown type '" + *s + "'");
  }

  Result<std::int32_t> compileNode(const json::Value& v, const std::string& where, int depth) {
    if (depth > 200) return bad(where, "schema nested too deeply");
    const std::int32_t idx = newNode();
    if (const auto b = v.asBool()) {
      node(idx).kind = *b ? Node::Kind::kAlways : Node::Kind::kNever;
      return idx;
    }
    const json::Object* obj = v.asObject();
    if (!obj) return bad(where, "a schema must be an object or a boolean");

    if (const json::Value* ref = v.find("$ref")) {
      // draft-06: keywords next to $ref are ignored.
      const std::string* target = ref->asString();
      if (!target) return bad(where, "$ref must be a string");
      node(idx).kind = Node::Kind::kRef;
      m_refs.push_back({idx, *target, where});
      return idx;
    }

    bool objectKeywords = false;
    const json::Value* discriminator = nullptr;
    for (const auto& [key, value] : *obj) {
      const std::string at = where + "/" + pointerEscape(key);
      if (key == "description" || key == "title" || key == "$schema" || key == "id" || key == "$id" ||
          key == "$comment" || key == "default" || key == "examples" || key == "definitions" || key == "format") {
        continue;
      }
      if (key == "type") {
        std::uint8_t types = 0;
        if (const json::Array* list = value.asArray()) {
          for (const json::Value& t : *list) {
            auto bit = typeBit(t, at);
            if (!bit.isOk()) return bit.status();
            types = static_cast<std::uint8_t>(types | bit.value());
          }
          if (types == 0) return bad(at, "empty type list");
        } else {
          auto bit = typeBit(value, at);
          if (!bit.isOk()) return bit.status();
          types = bit.value();
        }
        node(idx).types = types;
      } else if (key == "items") {
        if (value.isArray()) return bad(at, "tuple items (an array of schemas) are not supported");
        auto sub = compileNode(value, at, depth + 1);
        if (!sub.isOk()) return sub.status();
        node(idx).items = sub.value();
      } else if (key == "properties") {
        const json::Object* props = value.asObject();
        if (!props) return bad(at, "expected an object");
        std::vector<std::pair<std::string, std::int32_t>> list;
        for (const auto& [name, sub] : *props) {
          auto c = compileNode(sub, at + "/" + pointerEscape(name), depth + 1);
          if (!c.isOk()) return c.status();
          list.emplace_back(name, c.value());
        }
        std::sort(list.begin(), list.end());
        node(idx).properties = std::move(list);
        objectKeywords = true;
      } else if (key == "additionalProperties") {
        if (const auto b = value.asBool()) {
          node(idx).forbidAdditional = !*b;
        } else {
          auto sub = compileNode(value, at, depth + 1);
          if (!sub.isOk()) return sub.status();
          node(idx).additional = sub.value();
        }
        objectKeywords = true;
      } else if (key == "required") {
        const json::Array* list = value.asArray();
        if (!list) return bad(at, "expected an array of property names");
        for (const json::Value& name : *list) {
          if (!name.isString()) return bad(at, "expected an array of property names");
          node(idx).required.push_back(*name.asString());
        }
        objectKeywords = true;
      } else if (key == "enum") {
        const json::Array* list = value.asArray();
        if (!list) return bad(at, "expected an array");
        node(idx).hasEnum = true;
        node(idx).enumValues = *list;
      } else if (key == "const") {
        node(idx).hasConst = true;
        node(idx).constValue = value;
      } else if (key == "pattern") {
        const std::string* p = value.asString();
        if (!p) return bad(at, "expected a string");
        auto re = regexIndex(*p, at);
        if (!re.isOk()) return re.status();
        node(idx).pattern = re.value();
      } else if (key == "oneOf") {
        const json::Array* list = value.asArray();
        if (!list || list->empty()) return bad(at, "expected a non-empty array of schemas");
        std::vector<std::int32_t> branches;
        for (std::size_t k = 0; k < list->size(); ++k) {
          auto sub = compileNode((*list)[k], at + "/" + std::to_string(k), depth + 1);
          if (!sub.isOk()) return sub.status();
          branches.push_back(sub.value());
        }
        node(idx).oneOf = std::move(branches);
      } else if (key == "discriminator") {
        discriminator = &value;
      } else {
        return bad(at, "unsupported keyword '" + key + "'");
      }
    }
    if (objectKeywords && node(idx).types == 0) node(idx).objectOnly = true;
    if (discriminator) {
      Status st = compileDiscriminator(idx, *discriminator, where + "/discriminator");
      if (!st.isOk()) return st;
    }
    return idx;
  }

  Status compileDiscriminator(std::int32_t idx, const json::Value& d, const std::string& where) {
    if (node(idx).oneOf.empty()) return bad(where, "a discriminator needs a oneOf next to it");
    const json::Value* prop = d.find("propertyName");
    const json::Value* mapping = d.find("mapping");
    if (!prop || !prop->isString()) return bad(where, "propertyName must be a string");
    if (!mapping || !mapping->isObject()) return bad(where, "mapping must be an object of $refs");
    for (const auto& [key, value] : *d.asObject()) {
      if (key != "propertyName" && key != "mapping") return bad(where, "unsupported member '" + key + "'");
    }
    Dispatch dispatch;
    dispatch.property = *prop->asString();
    const auto di = static_cast<std::int32_t>(m_s.dispatches.size());
    for (const auto& [name, target] : *mapping->asObject()) {
      if (!target.isString()) return bad(where + "/mapping/" + pointerEscape(name), "expected a $ref string");
      m_mappings.push_back({di, name, *target.asString(), where + "/mapping/" + pointerEscape(name)});
    }
    m_s.dispatches.push_back(std::move(dispatch));
    node(idx).dispatch = di;
    return Status::ok();
  }

  Result<std::int32_t> regexIndex(const std::string& pattern, const std::string& where) {
    auto it = m_regexByPattern.find(pattern);
    if (it != m_regexByPattern.end()) return it->second;
    auto re = Regex::compile(pattern);
    if (!re.isOk()) return bad(where, "pattern " + pattern + ": " + re.status().message());
    m_s.regexes.push_back(std::move(re).value());
    m_s.regexSources.push_back(pattern);
    const auto i = static_cast<std::int32_t>(m_s.regexes.size() - 1);
    m_regexByPattern.emplace(pattern, i);
    return i;
  }

  Result<std::int32_t> lookup(const std::string& target, const std::string& where) {
    if (target == "#") return m_s.root;
    constexpr std::string_view kPrefix = "#/definitions/";
    if (target.rfind(kPrefix, 0) == 0) {
      // Undo JSON pointer escapes (~1 is '/', ~0 is '~').
      std::string name;
      const std::string_view rest = std::string_view(target).substr(kPrefix.size());
      for (std::size_t k = 0; k < rest.size(); ++k) {
        if (rest[k] == '~' && k + 1 < rest.size() && (rest[k + 1] == '0' || rest[k + 1] == '1')) {
          name += rest[k + 1] == '0' ? '~' : '/';
          ++k;
        } else if (rest[k] == '/') {
          return bad(where, "$ref '" + target + "' points inside a definition (only #/definitions/NAME works)");
        } else {
          name += rest[k];
        }
      }
      const std::int32_t i = m_s.findDefinition(name);
      if (i < 0) return bad(where, "$ref '" + target + "' names no definition");
      return i;
    }
    return bad(where, "unsupported $ref '" + target + "' (only # and #/definitions/NAME)");
  }

  // Every kRef points at the non-ref node at the end of its chain.
  Status resolveRefs() {
    for (const PendingRef& r : m_refs) {
      auto target = lookup(r.target, r.where);
      if (!target.isOk()) return target.status();
      node(r.node).ref = target.value();
    }
    for (const PendingRef& r : m_refs) {
      std::int32_t at = node(r.node).ref;
      std::size_t hops = 0;
      while (node(at).kind == Node::Kind::kRef) {
        if (++hops > m_s.nodes.size()) return bad(r.where, "$ref '" + r.target + "' only leads to $refs (a cycle)");
        at = node(at).ref;
      }
      node(r.node).ref = at;
    }
    for (const PendingMapping& m : m_mappings) {
      auto target = lookup(m.target, m.where);
      if (!target.isOk()) return target.status();
      m_s.dispatches[static_cast<std::size_t>(m.dispatch)].mapping.emplace_back(m.name, follow(target.value()));
    }
    for (Dispatch& d : m_s.dispatches) std::sort(d.mapping.begin(), d.mapping.end());
    return Status::ok();
  }

  std::int32_t follow(std::int32_t i) { return node(i).kind == Node::Kind::kRef ? node(i).ref : i; }

  // A string const on `property` of schema `i`, if there is one.
  const std::string* constOf(std::int32_t i, std::string_view property) {
    const Node& n = node(follow(i));
    auto it = std::lower_bound(n.properties.begin(), n.properties.end(), property,
                               [](const auto& p, std::string_view name) { return p.first < name; });
    if (it == n.properties.end() || it->first != property) return nullptr;
    const Node& p = node(follow(it->second));
    return p.hasConst ? p.constValue.asString() : nullptr;
  }

  // A oneOf without a discriminator whose branches each carry a distinct
  // string const on one property gets a dispatch on that property.
  Status resolveDispatches() {
    for (std::size_t k = 0; k < m_s.nodes.size(); ++k) {
      Node& n = m_s.nodes[k];
      if (n.oneOf.size() < 2 || n.dispatch >= 0) continue;
      const Node& first = node(follow(n.oneOf[0]));
      for (const auto& candidate : first.properties) {
        Dispatch d;
        d.property = candidate.first;
        bool ok = true;
        for (std::int32_t branch : n.oneOf) {
          const std::string* name = constOf(branch, d.property);
          if (!name) {
            ok = false;
            break;
          }
          d.mapping.emplace_back(*name, follow(branch));
        }
        if (!ok) continue;
        std::sort(d.mapping.begin(), d.mapping.end());
        const bool distinct = std::adjacent_find(d.mapping.begin(), d.mapping.end(), [](const auto& a, const auto& b) {
                                return a.first == b.first;
                              }) == d.mapping.end();
        if (!distinct) continue;
        m_s.dispatches.push_back(std::move(d));
        m_s.nodes[k].dispatch = static_cast<std::int32_t>(m_s.dispatches.size() - 1);
        break;
      }
    }
    return Status::ok();
  }

  // Pattern messages name a definition: its own, or for an inline pattern
  // the definitions that carry the same pattern and type.
  void nameInlinePatterns() {
    std::map<std::pair<std::int32_t, std::uint8_t>, std::vector<std::string>> owners;
    for (const auto& [name, i] : m_s.definitions) {
      const Node& n = node(i);
      if (n.kind == Node::Kind::kSchema && n.pattern >= 0) owners[{n.pattern, n.types}].push_back(name);
    }
    auto describe = [this](const std::string& name) {
      return m_options.definitionKind.empty() ? "definition '" + name + "'"
                                              : "a " + m_options.definitionKind + " " + name;
    };
    for (Node& n : m_s.nodes) {
      if (n.kind != Node::Kind::kSchema || n.pattern < 0) continue;
      if (!n.definition.empty()) {
        n.patternWhat = describe(n.definition);
        continue;
      }
      auto it = owners.find({n.pattern, n.types});
      if (it == owners.end()) continue;
      const std::vector<std::string>& names = it->second;
      std::string what = describe(names[0]);
      for (std::size_t k = 1; k < names.size(); ++k) what += (k + 1 == names.size() ? " or " : ", ") + names[k];
      n.patternWhat = std::move(what);
    }
  }

  CompiledSchema& m_s;
  const CompileOptions& m_options;
  std::vector<PendingRef> m_refs;
  std::vector<PendingMapping> m_mappings;
  std::map<std::string, std::int32_t> m_regexByPattern;
};

// ---------------------------------------------------------------------------
// Validation.

constexpr int kMaxDepth = 256;  // levels of nesting in the value checked

bool isIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (std::size_t k = 0; k < key.size(); ++k) {
    const char c = key[k];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (k > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

class Validator {
 public:
  Validator(const CompiledSchema& s, std::vector<SchemaError>& out, std::size_t maxErrors)
      : m_s(s), m_out(out), m_max(maxErrors) {}

  void run(std::int32_t i, const json::Value& v) { check(i, v, 0); }

 private:
  const Node& node(std::int32_t i) const { return m_s.nodes[static_cast<std::size_t>(i)]; }
  bool full() const { return m_out.size() >= m_max; }

  void error(std::string message) {
    if (!full()) m_out.push_back({m_path, std::move(message)});
  }
  // An error at path + "." + key (for a member that is there or should not be).
  void memberError(std::string_view key, std::string message) {
    const std::size_t mark = pushKey(key);
    error(std::move(message));
    m_path.resize(mark);
  }

  // Appends ".key", or ["key"] for a key that is not an identifier (cut
  // when very long).
  std::size_t pushKey(std::string_view key) {
    const std::size_t mark = m_path.size();
    if (isIdentifier(key) && key.size() <= 60) {
      if (!m_path.empty()) m_path += '.';
      m_path += key;
    } else {
      m_path += '[';
      m_path += json::quote(cut(key));
      m_path += ']';
    }
    return mark;
  }
  std::size_t pushIndex(std::size_t index) {
    const std::size_t mark = m_path.size();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, index);
    m_path += '[';
    m_path.append(buf, r.ptr);
    m_path += ']';
    return mark;
  }

  void check(std::int32_t i, const json::Value& v, int depth) {
    if (full()) return;
    if (depth > kMaxDepth) {
      error("nested more than " + std::to_string(kMaxDepth) + " levels deep");
      return;
    }
    const Node* n = &node(i);
    if (n->kind == Node::Kind::kRef) n = &node(n->ref);
    switch (n->kind) {
      case Node::Kind::kAlways: return;
      case Node::Kind::kNever: error("no value is allowed here"); return;
      case Node::Kind::kRef:  // resolved above: refs never chain
      case Node::Kind::kSchema: break;
    }

    if (n->types != 0 && !typeMatches(n->types, v)) {
      std::string expected;
      for (std::uint8_t bit = 1; bit != 0 && bit <= kTypeObject; bit = static_cast<std::uint8_t>(bit << 1)) {
        if (!(n->types & bit)) continue;
        if (!expected.empty()) expected += " or ";
        expected += typeName(bit);
      }
      error("expected " + expected + ", found " + std::string(foundName(v)));
      return;
    }
    if (n->objectOnly && !v.isObject()) {
      error("expected an object, found " + std::string(foundName(v)));
      return;
    }
    if (n->hasConst && !sameJson(n->constValue, v)) {
      error("expected " + shortText(n->constValue, true) + ", found " + shortText(v, true));
      return;
    }
    if (n->hasEnum) {
      bool found = false;
      for (const json::Value& e : n->enumValues) {
        if (sameJson(e, v)) {
          found = true;
          break;
        }
      }
      if (!found) {
        constexpr std::size_t kListed = 12;
        std::string list;
        for (std::size_t k = 0; k < n->enumValues.size() && k < kListed; ++k) {
          if (k > 0) list += ", ";
          list += shortText(n->enumValues[k], false);
        }
        if (n->enumValues.size() > kListed) list += " and " + std::to_string(n->enumValues.size() - kListed) + " more";
        error(shortText(v, true) + " is not one of " + list);
        return;
      }
    }
    if (n->pattern >= 0 && v.isString()) {
      const auto p = static_cast<std::size_t>(n->pattern);
      if (!m_s.regexes[p].search(*v.asString(), m_scratch)) {
        if (!n->patternWhat.empty()) {
          error("does not match the pattern of " + n->patternWhat);
        } else {
          std::string shown = m_s.regexSources[p];
          if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
          error("does not match the pattern " + shown);
        }
      }
    }
    if (n->items >= 0) {
      if (const json::Array* a = v.asArray()) {
        for (std::size_t k = 0; k < a->size() && !full(); ++k) {
          const std::size_t mark = pushIndex(k);
          check(n->items, (*a)[k], depth + 1);
          m_path.resize(mark);
        }
      }
    }
    if (const json::Object* o = v.asObject()) checkObject(*n, *o, depth);
    if (!n->oneOf.empty()) checkOneOf(*n, v, depth);
  }

  void checkObject(const Node& n, const json::Object& o, int depth) {
    if (!n.properties.empty() || n.forbidAdditional || n.additional >= 0) {
      for (const auto& [key, value] : o) {
        if (full()) return;
        auto it = std::lower_bound(n.properties.begin(), n.properties.end(), key,
                                   [](const auto& p, const std::string& k) { return p.first < k; });
        std::int32_t sub = -1;
        if (it != n.properties.end() && it->first == key) {
          sub = it->second;
        } else if (n.forbidAdditional) {
          memberError(key, "unknown property '" + cut(key) + "'");
          continue;
        } else {
          sub = n.additional;
        }
        if (sub < 0) continue;
        const std::size_t mark = pushKey(key);
        check(sub, value, depth + 1);
        m_path.resize(mark);
      }
    }
    for (const std::string& name : n.required) {
      bool present = false;
      for (const auto& member : o) {
        if (member.first == name) {
          present = true;
          break;
        }
      }
      if (!present) error("missing required property '" + name + "'");
    }
  }

  void checkOneOf(const Node& n, const json::Value& v, int depth) {
    if (n.dispatch >= 0) {
      const Dispatch& d = m_s.dispatches[static_cast<std::size_t>(n.dispatch)];
      if (!v.isObject()) {
        error("expected an object, found " + std::string(foundName(v)));
        return;
      }
      const json::Value* tag = v.find(d.property);
      if (!tag) {
        error("missing required property '" + d.property + "'");
        return;
      }
      const std::string* name = tag->asString();
      if (!name) {
        memberError(d.property, "expected a string, found " + std::string(foundName(*tag)));
        return;
      }
      auto it = std::lower_bound(d.mapping.begin(), d.mapping.end(), *name,
                                 [](const auto& m, const std::string& k) { return m.first < k; });
      if (it == d.mapping.end() || it->first != *name) {
        memberError(d.property, "unknown " + d.property + " " + shortText(*tag, true));
        return;
      }
      check(it->second, v, depth + 1);
      return;
    }
    // Plain oneOf: exactly one branch must accept the value.
    std::size_t matched = 0;
    for (std::int32_t branch : n.oneOf) {
      std::vector<SchemaError> scratchErrors;
      Validator sub(m_s, scratchErrors, 1);
      sub.m_path = m_path;
      sub.check(branch, v, depth + 1);
      if (scratchErrors.empty()) ++matched;
    }
    if (matched == 0) {
      error("matches none of the " + std::to_string(n.oneOf.size()) + " allowed forms");
    } else if (matched > 1) {
      error("matches " + std::to_string(matched) + " of the allowed forms where exactly one must match");
    }
  }

  const CompiledSchema& m_s;
  std::vector<SchemaError>& m_out;
  const std::size_t m_max;
  std::string m_path;
  MatchScratch m_scratch;
};

}  // namespace

Result<Schema> Schema::compile(const json::Value& schemaDoc, const CompileOptions& options) {
  auto compiled = std::make_shared<CompiledSchema>();
  Compiler compiler(*compiled, options);
  Status st = compiler.run(schemaDoc);
  if (!st.isOk()) return st;
  return Schema(std::shared_ptr<const CompiledSchema>(std::move(compiled)));
}

bool Schema::hasDefinition(std::string_view name) const { return m_impl && m_impl->findDefinition(name) >= 0; }

std::vector<SchemaError> Schema::validate(const json::Value& v, std::string_view definition,
                                          std::size_t maxErrors) const {
  std::vector<SchemaError> errors;
  if (!m_impl) {
    errors.push_back({"", "no schema to check against (it failed to compile or was moved away)"});
    return errors;
  }
  const std::int32_t start = definition.empty() ? m_impl->root : m_impl->findDefinition(definition);
  if (start < 0) {
    errors.push_back({"", "the schema has no definition '" + std::string(definition) + "'"});
    return errors;
  }
  Validator validator(*m_impl, errors, std::max<std::size_t>(maxErrors, 1));
  validator.run(start, v);
  return errors;
}

}  // namespace charta::server::jsonschema
