// JSON: round trips, numbers, escapes, every rejection with its offset, the
// limits, the Value API and ObjectReader's messages.
#include "json.h"

#include <QtTest>
#include <cmath>
#include <limits>
#include <string>

using namespace charta::server::json;
using charta::crdt::Status;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

Value parseOk(std::string_view text) {
  Result<Value> r = parse(text);
  if (!r.isOk()) qWarning("parse failed: %s", r.status().toString().c_str());
  return r.isOk() ? std::move(r).value() : Value("<parse failed>");
}

}  // namespace

class JsonTest : public QObject {
  Q_OBJECT

 private slots:
  void roundTripsCanonicalText_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("null") << "null";
    QTest::newRow("true") << "true";
    QTest::newRow("false") << "false";
    QTest::newRow("int") << "42";
    QTest::newRow("negative") << "-7";
    QTest::newRow("double") << "0.1";
    QTest::newRow("double exp") << "1.5e-07";
    QTest::newRow("string") << "\"h\\\"i\\\\\"";
    QTest::newRow("empty array") << "[]";
    QTest::newRow("empty object") << "{}";
    QTest::newRow("nested") << "{\"a\":[1,2.5,{\"b\":null}],\"c\":{\"d\":[[],{}]},\"e\":\"x\"}";
    QTest::newRow("member order kept") << "{\"z\":1,\"a\":2,\"m\":3}";
    QTest::newRow("utf8 kept") << "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"";
  }
  void roundTripsCanonicalText() {
    QFETCH(QString, text);
    const std::string s = text.toStdString();
    const Result<Value> r = parse(s);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(q(serialize(r.value())), text);
    const Result<Value> again = parse(serialize(r.value()));
    QVERIFY(again.isOk());
    QVERIFY(again.value() == r.value());
  }

  void whitespaceIsDroppedByTheWriter() {
    const Value v = parseOk(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\n ");
    QCOMPARE(q(serialize(v)), QStringLiteral("{\"a\":[1,2],\"b\":{}}"));
  }

  void builtValuesSerializeDeterministically() {
    Value v = Value::object();
    v.set("name", "Ann");
    v.set("age", 41);
    v.set("tags", Value::array());
    Value tags = Value::array();
    tags.push(true);
    tags.push(nullptr);
    tags.push(std::string("x"));
    v.set("tags", tags);                    // replaces in place
    v.set("name", std::string_view("Bo"));  // replaces, keeps position
    QCOMPARE(q(serialize(v)), QStringLiteral("{\"name\":\"Bo\",\"age\":41,\"tags\":[true,null,\"x\"]}"));
    QVERIFY(v.find("missing") == nullptr);
    QVERIFY(Value(1).find("x") == nullptr);
    QVERIFY(*v.find("age") == Value(41));
  }

  void writerEscapes() {
    QCOMPARE(q(quote("a\"b\\c/d")), QStringLiteral("\"a\\\"b\\\\c/d\""));
    QCOMPARE(q(quote(std::string("\n\t\x01\x1f\x7f", 5))), QStringLiteral("\"\\u000a\\u0009\\u0001\\u001f\x7f\""));
    QCOMPARE(q(quote(std::string("a\0b", 3))), QStringLiteral("\"a\\u0000b\""));
    QCOMPARE(q(quote("\xC3\xA9\xF0\x9F\x98\x80")), QStringLiteral("\"\u00e9\U0001F600\""));
    // Invalid UTF-8: each bad byte becomes U+FFFD, so the output still parses.
    const std::string bad = quote("a\xFF\xC3(\xED\xA0\x80z");
    QCOMPARE(q(bad), QStringLiteral("\"a\uFFFD\uFFFD(\uFFFD\uFFFD\uFFFDz\""));
    QVERIFY(parse(bad).isOk());
  }

  void integersStayExact() {
    const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    const Value max = parseOk("9223372036854775807");
    QVERIFY(max.asInt() == kMax);
    QCOMPARE(q(serialize(max)), QStringLiteral("9223372036854775807"));
    const Value min = parseOk("-9223372036854775808");
    QVERIFY(min.asInt() == kMin);
    QCOMPARE(q(serialize(min)), QStringLiteral("-9223372036854775808"));
    QCOMPARE(q(serialize(Value(kMin))), QStringLiteral("-9223372036854775808"));
    QVERIFY(parseOk("0").asInt() == 0);

    // Out of int64 range: a double, no int.
    const Value over = parseOk("9223372036854775808");
    QVERIFY(!over.asInt().has_value());
    QCOMPARE(*over.asDouble(), 9223372036854775808.0);
    const Value under = parseOk("-9223372036854775809");
    QVERIFY(!under.asInt().has_value());
    QVERIFY(*under.asDouble() < -9.2e18);

    // A fraction or exponent makes a double even when integral.
    QVERIFY(!parseOk("1.0").asInt().has_value());
    QVERIFY(!parseOk("1e2").asInt().has_value());
    QCOMPARE(*parseOk("1e2").asDouble(), 100.0);
    QCOMPARE(*parseOk("7").asDouble(), 7.0);

    QVERIFY(Value(std::uint64_t{5}).asInt() == 5);
    QVERIFY(!Value(std::numeric_limits<std::uint64_t>::max()).asInt().has_value());
  }

  void doublesRoundTripShortest() {
    QCOMPARE(q(serialize(Value(0.1))), QStringLiteral("0.1"));
    QCOMPARE(q(serialize(Value(1e308))), QStringLiteral("1e+308"));
    QCOMPARE(q(serialize(Value(3.0))), QStringLiteral("3.0"));
    QCOMPARE(q(serialize(Value(-2.5))), QStringLiteral("-2.5"));
    for (const double d : {0.1, 1.0 / 3.0, 1e308, -1e308, 5e-324, 2.2250738585072014e-308, 123456789.125,
                           1.7976931348623157e308, 3.0, 1e21, -0.0}) {
      const std::string text = serialize(Value(d));
      const Result<Value> r = parse(text);
      QVERIFY2(r.isOk(), text.c_str());
      QVERIFY2(!r.value().asInt().has_value(), text.c_str());
      QCOMPARE(*r.value().asDouble(), d);
      QCOMPARE(std::signbit(*r.value().asDouble()), std::signbit(d));
      QVERIFY(r.value() == Value(d));
    }
    QCOMPARE(*parseOk("1e308").asDouble(), 1e308);
    QCOMPARE(*parseOk("1E+308").asDouble(), 1e308);
    QCOMPARE(*parseOk("-1.25e-3").asDouble(), -0.00125);
  }

  void negativeZero() {
    // "-0" has no fraction or exponent: the exact integer 0.
    QVERIFY(parseOk("-0").asInt() == 0);
    const Value d = parseOk("-0.0");
    QVERIFY(!d.asInt().has_value());
    QVERIFY(std::signbit(*d.asDouble()));
    QCOMPARE(q(serialize(d)), QStringLiteral("-0.0"));
    QCOMPARE(q(serialize(Value(-0.0))), QStringLiteral("-0.0"));
  }

  void underflowIsZeroOverflowIsAnError() {
    const Value tiny = parseOk("1e-400");
    QCOMPARE(*tiny.asDouble(), 0.0);
    QVERIFY(std::signbit(*parseOk("-1e-400").asDouble()));
    QCOMPARE(*parseOk("0.0000001e-320").asDouble(), 0.0);
    for (const char* text : {"1e309", "-1e309", "1000e99999999999999999999", "[0, 1e400]"}) {
      const Result<Value> r = parse(text);
      QVERIFY2(!r.isOk(), text);
      QCOMPARE(r.status().code(), Status::Code::kCorruption);
      QVERIFY2(r.status().message().find("range") != std::string::npos, r.status().message().c_str());
    }
    QCOMPARE(q(parse("[0, 1e400]").status().message()),
             QStringLiteral("offset 4: expected a number within the range of a double"));
  }

  void nonFiniteDoublesWriteNull() {
    QCOMPARE(q(serialize(Value(std::numeric_limits<double>::quiet_NaN()))), QStringLiteral("null"));
    QCOMPARE(q(serialize(Value(-std::numeric_limits<double>::infinity()))), QStringLiteral("null"));
  }

  void unicodeEscapes() {
    QCOMPARE(q(*parseOk("\"\\u00e9\\u00E9\"").asString()), QStringLiteral("\u00e9\u00e9"));
    QCOMPARE(q(*parseOk("\"\\u20ac\"").asString()), QStringLiteral("\u20ac"));
    const std::string pair = *parseOk("\"\\ud83d\\ude00\"").asString();
    QCOMPARE(q(pair), QStringLiteral("\U0001F600"));
    QCOMPARE(pair.size(), std::size_t{4});
    QCOMPARE(q(*parseOk("\"\\uDBFF\\uDFFF\"").asString()), q("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    const std::string nul = *parseOk("\"a\\u0000b\"").asString();
    QCOMPARE(nul.size(), std::size_t{3});
    QCOMPARE(nul[1], '\0');
    QCOMPARE(q(*parseOk("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"").asString()), QStringLiteral("\"\\/\b\f\n\r\t"));
    // The writer keeps UTF-8 as is rather than escaping it.
    QCOMPARE(q(serialize(parseOk("\"\\ud83d\\ude00\""))), q("\"\xF0\x9F\x98\x80\""));
  }

  void rejections_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("message");
    const auto row = [](const char* name, QByteArray text, const char* message) {
      QTest::newRow(name) << text << QString::fromUtf8(message);
    };
    row("empty", "", "offset 0: expected a value");
    row("only whitespace", "   ", "offset 3: expected a value");
    row("trailing comma array", "[1,]", "offset 3: expected a value");
    row("trailing comma object", "{\"a\":1,}", "offset 7: expected a string key");
    row("leading comma", "[,1]", "offset 1: expected a value");
    row("duplicate key", "{\"a\":1,\"b\":2,\"a\":3}", "offset 13: duplicate key \"a\"");
    row("duplicate key nested", "[{\"k\":{\"x\":1,\"x\":1}}]", "offset 13: duplicate key \"x\"");
    row("leading zero", "01", "offset 0: expected no leading zero");
    row("negative leading zero", "[-012]", "offset 2: expected no leading zero");
    row("trailing garbage", "[1] x", "offset 4: expected end of input");
    row("two values", "1 2", "offset 2: expected end of input");
    row("NaN", "NaN", "offset 0: expected a value");
    row("Infinity", "[Infinity]", "offset 1: expected a value");
    row("-Infinity", "-Infinity", "offset 1: expected a digit");
    row("lone high surrogate", "\"\\ud800\"", "offset 7: expected a low surrogate escape after a high surrogate");
    row("high then non-low", "\"\\ud800\\u0041\"", "offset 7: expected a low surrogate escape after a high surrogate");
    row("high then high", "\"\\ud800\\ud800\"", "offset 7: expected a low surrogate escape after a high surrogate");
    row("lone low surrogate", "\"x\\udc00\"", "offset 2: expected a high surrogate before a low surrogate");
    row("raw newline", "\"a\nb\"", "offset 2: expected an escape, not a raw control character");
    row("raw NUL", QByteArray("\"a\0\"", 4), "offset 2: expected an escape, not a raw control character");
    row("bad byte", "\"\xFF\"", "offset 1: expected valid UTF-8");
    row("stray continuation", "\"ab\x80\"", "offset 3: expected valid UTF-8");
    row("overlong slash", "\"\xC0\xAF\"", "offset 1: expected valid UTF-8");
    row("overlong 3 byte", "\"\xE0\x80\xAF\"", "offset 1: expected valid UTF-8");
    row("encoded surrogate", "\"\xED\xA0\x80\"", "offset 1: expected valid UTF-8");
    row("above U+10FFFF", "\"\xF4\x90\x80\x80\"", "offset 1: expected valid UTF-8");
    row("truncated sequence", "\"\xE2\x82\"", "offset 1: expected valid UTF-8");
    row("utf8 in key", "{\"\xFE\":1}", "offset 2: expected valid UTF-8");
    row("unterminated string", "\"abc", "offset 4: expected '\"' to end the string");
    row("bad escape", "\"\\x\"", "offset 2: expected one of \"\\/bfnrtu after '\\'");
    row("short unicode escape", "\"\\u12g4\"", "offset 3: expected 4 hex digits after \\u");
    row("escape at end", "\"\\", "offset 2: expected an escape character");
    row("dot without digits", "1.", "offset 2: expected a digit after '.'");
    row("dot then exponent", "1.e5", "offset 2: expected a digit after '.'");
    row("exponent without digits", "1e+", "offset 3: expected a digit in the exponent");
    row("leading dot", ".5", "offset 0: expected a value");
    row("plus sign", "+1", "offset 0: expected a value");
    row("minus alone", "-", "offset 1: expected a digit");
    row("hex", "0x10", "offset 1: expected end of input");
    row("missing comma", "[1 2]", "offset 3: expected ',' or ']'");
    row("missing colon", "{\"a\" 1}", "offset 5: expected ':'");
    row("unquoted key", "{a:1}", "offset 1: expected a string key");
    row("number key", "{1:2}", "offset 1: expected a string key");
    row("unclosed array", "[1,2", "offset 4: expected ',' or ']'");
    row("unclosed object", "{\"a\":1", "offset 6: expected ',' or '}'");
    row("mismatched close", "[1}", "offset 2: expected ',' or ']'");
    row("stray close", "]", "offset 0: expected a value");
    row("truncated literal", "tru", "offset 0: expected a value");
    row("capital literal", "True", "offset 0: expected a value");
    row("single quotes", "'a'", "offset 0: expected a value");
    row("byte order mark", "\xEF\xBB\xBF{}", "offset 0: expected a value");
    row("comment", "[1]//c", "offset 3: expected end of input");
    row("vertical tab", "[\v1]", "offset 1: expected a value");
  }
  void rejections() {
    QFETCH(QByteArray, text);
    QFETCH(QString, message);
    const Result<Value> r = parse(std::string_view(text.constData(), static_cast<std::size_t>(text.size())));
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), Status::Code::kCorruption);
    QCOMPARE(q(r.status().message()), message);
  }

  void duplicateKeysInLargeObjects() {
    std::string text = "{";
    for (int i = 0; i < 200; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    const std::string good = text.substr(0, text.size() - 1) + "}";
    const Result<Value> ok = parse(good);
    QVERIFY(ok.isOk());
    QCOMPARE(ok.value().asObject()->size(), std::size_t{200});
    QVERIFY(*ok.value().find("k199") == Value(199));
    const std::string dup = text + "\"k17\":0}";
    const Result<Value> bad = parse(dup);
    QVERIFY(!bad.isOk());
    QCOMPARE(q(bad.status().message()), q("offset " + std::to_string(text.size()) + ": duplicate key \"k17\""));
    // Keys that differ only after an escape are different keys; the same key
    // written two ways is a duplicate.
    QVERIFY(parse("{\"a\":1,\"\\u0061b\":2}").isOk());
    QVERIFY(!parse("{\"a\":1,\"\\u0061\":2}").isOk());
  }

  void sizeLimit() {
    ParseLimits limits;
    limits.maxBytes = 9;
    QVERIFY(parse("[1,2,3,4]", limits).isOk());
    const Result<Value> r = parse("[1,2,3,45]", limits);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), Status::Code::kCorruption);
    QCOMPARE(q(r.status().message()), QStringLiteral("offset 9: expected at most 9 bytes"));
  }

  void depthLimit() {
    ParseLimits limits;
    limits.maxDepth = 3;
    QVERIFY(parse("[[[1]]]", limits).isOk());
    QVERIFY(parse("{\"a\":[{}]}", limits).isOk());
    QCOMPARE(q(parse("[[[[1]]]]", limits).status().message()),
             QStringLiteral("offset 3: expected at most 3 levels of nesting"));
    QCOMPARE(q(parse("{\"a\":[{\"b\":[]}]}", limits).status().message()),
             QStringLiteral("offset 11: expected at most 3 levels of nesting"));
    // The default allows 64.
    QVERIFY(parse(std::string(64, '[') + std::string(64, ']')).isOk());
    QCOMPARE(q(parse(std::string(65, '[') + std::string(65, ']')).status().message()),
             QStringLiteral("offset 64: expected at most 64 levels of nesting"));
  }

  void deepNestingFailsWithoutCrashing() {
    const std::string arrays(100000, '[');
    const Result<Value> r = parse(arrays);
    QVERIFY(!r.isOk());
    QCOMPARE(q(r.status().message()), QStringLiteral("offset 64: expected at most 64 levels of nesting"));
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    QCOMPARE(parse(objects).status().code(), Status::Code::kCorruption);
    // Even with no depth limit the parser does not recurse.
    ParseLimits unlimited;
    unlimited.maxDepth = std::numeric_limits<std::size_t>::max();
    const Result<Value> open = parse(arrays, unlimited);
    QCOMPARE(q(open.status().message()), QStringLiteral("offset 100000: expected a value"));
    const Result<Value> openObjects = parse(objects, unlimited);
    QCOMPARE(q(openObjects.status().message()), q("offset " + std::to_string(objects.size()) + ": expected a value"));
  }

  void stringLimit() {
    ParseLimits limits;
    limits.maxStringBytes = 4;
    QVERIFY(parse("[\"abcd\",\"\\u00e9\\u00e9\"]", limits).isOk());
    QCOMPARE(q(parse("[\"abcde\"]", limits).status().message()),
             QStringLiteral("offset 1: expected a string of at most 4 bytes"));
    // Counted in decoded bytes: three 2-byte characters are 6.
    QCOMPARE(q(parse("[\"\\u00e9\\u00e9\\u00e9\"]", limits).status().message()),
             QStringLiteral("offset 1: expected a string of at most 4 bytes"));
    QCOMPARE(q(parse("{\"longkey\":1}", limits).status().message()),
             QStringLiteral("offset 1: expected a string of at most 4 bytes"));
  }

  void valueTypesAndAccess() {
    QVERIFY(Value().isNull());
    QVERIFY(Value(nullptr).type() == Value::Type::kNull);
    QVERIFY(Value(true).isBool());
    QVERIFY(Value(1).isNumber());
    QVERIFY(Value(1.5).isNumber());
    QVERIFY(Value("s").isString());
    QVERIFY(Value::array().isArray());
    QVERIFY(Value::object().isObject());
    const Value s("text");
    QVERIFY(!s.asBool().has_value());
    QVERIFY(!s.asInt().has_value());
    QVERIFY(!s.asDouble().has_value());
    QVERIFY(s.asArray() == nullptr);
    QVERIFY(s.asObject() == nullptr);
    QVERIFY(Value(1).asString() == nullptr);
    QCOMPARE(q(*s.asString()), QStringLiteral("text"));
    QVERIFY(Value(false).asBool() == false);
  }

  void equality() {
    QVERIFY(Value(3) == Value(std::int64_t{3}));
    QVERIFY(Value(3) != Value(3.0));  // exact integer vs double
    QVERIFY(Value(3) != Value(4));
    QVERIFY(Value(0.5) == Value(0.5));
    QVERIFY(Value("a") == Value(std::string("a")));
    QVERIFY(Value("a") != Value("b"));
    QVERIFY(Value() == Value(nullptr));
    QVERIFY(Value() != Value(false));
    QVERIFY(Value(true) != Value(1));
    QVERIFY(Value(Array{1, "x"}) == Value(Array{1, "x"}));
    QVERIFY(Value(Array{1, "x"}) != Value(Array{1}));
    QVERIFY(parseOk("{\"a\":[1,{\"b\":null}]}") == parseOk("{ \"a\" : [1, {\"b\": null}] }"));
    QVERIFY(parseOk("{\"a\":[1,{\"b\":null}]}") != parseOk("{\"a\":[1,{\"b\":false}]}"));
    QVERIFY(parseOk("{\"a\":1}") != parseOk("{\"b\":1}"));
  }

  void readerAcceptsAKnownObject() {
    const Value v = parseOk("{\"user\":\"ann\",\"n\":5,\"flag\":true,\"note\":null,\"any\":[1]}");
    ObjectReader r(v, "body");
    QCOMPARE(q(r.requiredString("user")), QStringLiteral("ann"));
    QCOMPARE(r.requiredInt("n", 1, 10), std::int64_t{5});
    QVERIFY(r.optionalBool("flag") == true);
    QVERIFY(!r.optionalString("note").has_value());  // null reads as absent
    QVERIFY(!r.optionalInt("absent", 0, 1).has_value());
    QVERIFY(!r.optionalString("absent2").has_value());
    QVERIFY(!r.optionalBool("absent3").has_value());
    const Value* any = r.optionalValue("any");
    QVERIFY(any != nullptr && *any == Value(Array{1}));
    QVERIFY2(r.finish().isOk(), r.finish().toString().c_str());
  }

  void readerMessages_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing") << "{\"user\":\"a\"}"
                             << "body.password: missing";
    QTest::newRow("null required") << "{\"user\":\"a\",\"password\":null}"
                                   << "body.password: expected a string";
    QTest::newRow("wrong type") << "{\"user\":\"a\",\"password\":5}"
                                << "body.password: expected a string";
    QTest::newRow("too long") << "{\"user\":\"a\",\"password\":\"12345678901\"}"
                              << "body.password: expected a string of at most 10 bytes";
    QTest::newRow("int above") << "{\"user\":\"a\",\"password\":\"p\",\"age\":151}"
                               << "body.age: expected an integer in [0, 150]";
    QTest::newRow("int below") << "{\"user\":\"a\",\"password\":\"p\",\"age\":-1}"
                               << "body.age: expected an integer in [0, 150]";
    QTest::newRow("int fraction") << "{\"user\":\"a\",\"password\":\"p\",\"age\":1.5}"
                                  << "body.age: expected an integer in [0, 150]";
    QTest::newRow("int as string") << "{\"user\":\"a\",\"password\":\"p\",\"age\":\"3\"}"
                                   << "body.age: expected an integer in [0, 150]";
    QTest::newRow("bool") << "{\"user\":\"a\",\"password\":\"p\",\"admin\":1}"
                          << "body.admin: expected a boolean";
    QTest::newRow("unknown") << "{\"user\":\"a\",\"password\":\"p\",\"foo\":1}"
                             << "body: unknown member \"foo\"";
    QTest::newRow("unknown escaped") << "{\"user\":\"a\",\"password\":\"p\",\"f\\no\":1}"
                                     << "body: unknown member \"f\\u000ao\"";
    QTest::newRow("first problem wins") << "{\"user\":7,\"bar\":1}"
                                        << "body.user: expected a string";
    QTest::newRow("not an object") << "[1]"
                                   << "body: expected an object";
  }
  void readerMessages() {
    QFETCH(QString, body);
    QFETCH(QString, message);
    const Value v = parseOk(body.toStdString());
    ObjectReader r(v, "body");
    r.requiredString("user");
    r.requiredString("password", 10);
    r.optionalInt("age", 0, 150);
    r.optionalBool("admin");
    const Status s = r.finish();
    QVERIFY(!s.isOk());
    QCOMPARE(s.code(), Status::Code::kInvalidArgument);
    QCOMPARE(q(s.message()), message);
  }

  void readerRequiredIntMissing() {
    const Value v = parseOk("{}");
    ObjectReader r(v, "ops[3]");
    QCOMPARE(r.requiredInt("seq", 1, 9), std::int64_t{1});
    QCOMPARE(q(r.finish().message()), QStringLiteral("ops[3].seq: missing"));
  }
};

QTEST_APPLESS_MAIN(JsonTest)
#include "json_test.moc"
