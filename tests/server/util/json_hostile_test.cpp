// The JSON parser on hostile input: random byte mutations of valid documents,
// token soup, deep nesting of every shape and oversized inputs never crash and
// either parse or fail with kCorruption naming an offset. Whatever parses must
// survive a write/parse round trip unchanged.
#include <QtTest>
#include <random>
#include <string>
#include <vector>

#include "json.h"

using namespace charta::server::json;
using charta::crdt::Status;

namespace {

const std::vector<std::string>& seeds() {
  static const std::vector<std::string> kSeeds = {
      "{\"user\":\"ann\",\"password\":\"s3cr\\u00e9t\",\"device\":{\"id\":\"d-1\",\"seq\":42}}",
      "[1,-2,3.5e10,-0.0,true,false,null,\"\\ud83d\\ude00\",[],{}]",
      "{\"ops\":[{\"k\":\"vital\",\"v\":98.6,\"t\":1700000000000},{\"k\":\"note\",\"v\":\"a\\nb\\t\\\"c\\\"\"}]}",
      "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \\/\\b\\f\\r\"",
      "[[[[[[[[{\"deep\":[[[1]]]}]]]]]]]]",
      "{\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":1e308,\"d\":5e-324}",
      "  {\"x\" : [ 1 , 2 , { \"y\" : null } ] }  ",
  };
  return kSeeds;
}

// Parses `s`; a failure must be kCorruption with an offset, a success must
// round-trip. Records a test failure and returns false otherwise.
bool checkHostile(const std::string& s, const ParseLimits& limits = {}) {
  const Result<Value> r = parse(s, limits);
  if (!r.isOk()) {
    const Status st = r.status();
    if (st.code() != Status::Code::kCorruption || st.message().rfind("offset ", 0) != 0) {
      QTest::qFail(("unexpected status " + st.toString()).c_str(), __FILE__, __LINE__);
      return false;
    }
    return true;
  }
  const std::string written = serialize(r.value());
  const Result<Value> again = parse(written, limits);
  if (!again.isOk() || !(again.value() == r.value()) || serialize(again.value()) != written) {
    QTest::qFail(("round trip changed " + written).c_str(), __FILE__, __LINE__);
    return false;
  }
  return true;
}

}  // namespace

class JsonHostileTest : public QObject {
  Q_OBJECT

 private slots:
  void seedsParse() {
    for (const std::string& s : seeds()) QVERIFY2(parse(s).isOk(), s.c_str());
  }

  void randomMutationsNeverCrash() {
    std::mt19937_64 rng(20261122);
    int parsed = 0;
    int rejected = 0;
    for (int i = 0; i < 20000; ++i) {
      std::string s = seeds()[static_cast<std::size_t>(rng() % seeds().size())];
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const std::size_t at = static_cast<std::size_t>(rng() % s.size());
        switch (rng() % 6) {
          case 0: s[at] = static_cast<char>(rng()); break;                       // overwrite
          case 1: s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8))); break;  // bit flip
          case 2: s.insert(at, 1, static_cast<char>(rng())); break;              // insert
          case 3: s.erase(at, 1 + rng() % 3); break;                             // delete
          case 4: s.resize(at); break;                                           // truncate
          default: s.insert(at, s.substr(rng() % s.size(), rng() % 8)); break;   // duplicate a slice
        }
      }
      if (!checkHostile(s)) return;
      if (parse(s).isOk()) {
        ++parsed;
      } else {
        ++rejected;
      }
    }
    // The mutations must exercise both outcomes.
    QVERIFY2(parsed > 100, qPrintable(QString::number(parsed)));
    QVERIFY2(rejected > 10000, qPrintable(QString::number(rejected)));
  }

  void tokenSoupNeverCrashes() {
    static const char* const kTokens[] = {"[",        "]",    "{",    "}",     ",",           ":",  "\"",   "\"k\"",
                                          "\\",       "\\u",  "d800", "dc00",  "0",           "1",  "-",    ".",
                                          "e",        "E+",   "true", "nul",   " ",           "\n", "\xC3", "\xA9",
                                          "\xF0\x9F", "\x00", "\x1f", "1e999", "\"\\ud800\"", "00"};
    std::mt19937 rng(7);
    ParseLimits tight;
    tight.maxDepth = 8;
    tight.maxStringBytes = 16;
    tight.maxBytes = 256;
    for (int i = 0; i < 20000; ++i) {
      std::string s;
      const int n = static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) {
        const char* token = kTokens[rng() % std::size(kTokens)];
        s += token[0] == '\0' ? std::string(1, '\0') : std::string(token);
      }
      if (!checkHostile(s)) return;
      if (!checkHostile(s, tight)) return;
    }
  }

  void deepNestingOfEveryShape() {
    const int kDepth = 100000;
    std::vector<std::string> inputs;
    inputs.emplace_back(static_cast<std::size_t>(kDepth), '[');
    inputs.push_back(std::string(static_cast<std::size_t>(kDepth), '[') +
                     std::string(static_cast<std::size_t>(kDepth), ']'));
    std::string objects;
    std::string mixed;
    for (int i = 0; i < kDepth; ++i) {
      objects += "{\"a\":";
      mixed += i % 2 == 0 ? "[" : "{\"k\":";
    }
    inputs.push_back(objects);
    inputs.push_back(mixed);
    inputs.push_back(std::string(static_cast<std::size_t>(kDepth), ']'));
    for (const std::string& s : inputs) {
      const Result<Value> r = parse(s);
      QVERIFY(!r.isOk());
      QCOMPARE(r.status().code(), Status::Code::kCorruption);
    }
    ParseLimits unlimited;
    unlimited.maxDepth = static_cast<std::size_t>(-1);
    for (const std::string& s : {inputs[0], inputs[2], inputs[3]}) {
      QCOMPARE(parse(s, unlimited).status().code(), Status::Code::kCorruption);
    }
  }

  void oversizedInputsAreRefused() {
    // A 5 MiB string is over the default 4 MiB string limit.
    const std::string big = "\"" + std::string(5u << 20, 'a') + "\"";
    QCOMPARE(QString::fromStdString(parse(big).status().message()),
             QStringLiteral("offset 0: expected a string of at most 4194304 bytes"));
    ParseLimits small;
    small.maxBytes = 1024;
    QCOMPARE(QString::fromStdString(parse(std::string(4096, ' ') + "1", small).status().message()),
             QStringLiteral("offset 1024: expected at most 1024 bytes"));
    // Many members: the duplicate check stays fast (a set past a few keys).
    std::string wide = "{";
    for (int i = 0; i < 200000; ++i) wide += "\"" + std::to_string(i) + "\":0,";
    wide += "\"0\":1}";
    QVERIFY(parse(wide).status().message().find("duplicate key \"0\"") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(JsonHostileTest)
#include "json_hostile_test.moc"
