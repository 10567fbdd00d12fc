// The JSON Schema validator itself (server/src/json_schema.h): 4 MB strings
// on a small stack, the regex subset, the generic keywords, cut enum lists,
// and compile errors. The FHIR R4 schema on the sample Bundles: schema_test.cpp.
#include "json_schema.h"

#include <QtTest>
#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fhir_schema.h"
#include "json.h"
#include "schema_test_support.h"

using charta::crdt::Result;
using charta::crdt::Status;
using charta::server::fhirR4Schema;
using charta::server::jsonschema::CompileOptions;
using charta::server::jsonschema::Schema;
using charta::server::jsonschema::SchemaError;
namespace json = charta::server::json;
using namespace charta::test::schema;

namespace {

// JSON written with single quotes, for readable schemas in C++ strings.
std::string dq(std::string text) {
  std::replace(text.begin(), text.end(), '\'', '"');
  return text;
}

Result<Schema> compileText(std::string_view text, const CompileOptions& options = {}) {
  Result<json::Value> doc = json::parse(text);
  if (!doc.isOk()) return doc.status();
  return Schema::compile(doc.value(), options);
}

// Whether `pattern` matches `text`, through a one-keyword schema. The
// pattern and text are taken as UTF-8.
bool patternMatches(const std::string& pattern, const std::string& text, QString* whyNot = nullptr) {
  json::Value doc = json::Value::object();
  doc.set("type", "string");
  doc.set("pattern", pattern);
  Result<Schema> s = Schema::compile(doc);
  if (!s.isOk()) {
    if (whyNot) *whyNot = q(s.status().toString());
    return false;
  }
  return s.value().validate(json::Value(text), "").empty();
}

// Rows for the data-driven tests below.
void patternRow(const char* name, const QString& pattern, const QString& text, bool matches) {
  QTest::newRow(name) << pattern << text << matches;
}
void compileErrorRow(const char* name, const QString& schema, const QString& message) {
  QTest::newRow(name) << schema << message;
}

// Runs `fn` on a thread with a 256 KiB stack: any recursion per character
// of a 4 MB string would overflow it.
template <typename Fn>
void onSmallStack(Fn fn) {
  std::unique_ptr<QThread> t(QThread::create(std::move(fn)));
  t->setStackSize(256 * 1024);
  t->start();
  QVERIFY(t->wait(QDeadlineTimer(120000)));
}

}  // namespace

class JsonSchemaTest : public QObject {
  Q_OBJECT

 private slots:
  // --- 4 MB strings ---

  void longStringsRunOnASmallStack() {
    std::string text;
    text.reserve(4u << 20);
    while (text.size() < (4u << 20)) text += "Chest pain, 3 days.\r\n\tNo fever. ";
    std::string base64;
    base64.reserve((4u << 20) + (4u << 20) / 76 + 8);
    for (std::size_t k = 0; k < (1u << 20); ++k) {
      base64 += "QUJD";
      if (k % 19 == 18) base64 += "\n";  // 76-column lines
    }
    const std::string manyAs(4u << 20, 'a');

    std::atomic<bool> textOk{false}, textBadOk{false}, base64Ok{false}, base64BadOk{false}, pathologicalOk{false};
    QStringList times;
    onSmallStack([&] {
      QElapsedTimer timer;
      auto lap = [&](const char* what) {
        times << QStringLiteral("%1 %2 ms").arg(QLatin1String(what)).arg(timer.restart());
      };
      const Schema& s = fhirR4Schema();
      timer.start();
      // FHIR string: ^[ \r\n\t\S]+$
      textOk = s.validate(json::Value(text), "string").empty();
      lap("string");
      const std::vector<SchemaError> bad = s.validate(json::Value(text + "\f"), "string");
      textBadOk = bad.size() == 1 && bad[0].message == "does not match the pattern of a FHIR string";
      lap("string with a form feed");
      // Extension.valueBase64Binary: ^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$
      const auto ext = [](const std::string& data) {
        json::Value v = json::Value::object();
        v.set("url", "http://example.org/attachment");
        v.set("valueBase64Binary", data);
        return v;
      };
      base64Ok = s.validate(ext(base64), "Extension").empty();
      lap("base64");
      const std::vector<SchemaError> bad64 = s.validate(ext(base64 + "QU"), "Extension");
      base64BadOk = bad64.size() == 1 && bad64[0].path == "valueBase64Binary" &&
                    bad64[0].message == "does not match the pattern ^(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+$";
      lap("base64 cut short");
      // Exponential for a backtracking matcher, linear here.
      pathologicalOk = !patternMatches("^(a|a)*(a|aa)*$", manyAs + "b") && patternMatches("^(a|a)*(a|aa)*$", manyAs);
      lap("two runs of ^(a|a)*(a|aa)*$");
    });
    qInfo("4 MB strings on a 256 KiB stack: %s", qPrintable(times.join(QStringLiteral(", "))));
    QVERIFY(textOk);
    QVERIFY(textBadOk);
    QVERIFY(base64Ok);
    QVERIFY(base64BadOk);
    QVERIFY(pathologicalOk);
  }

  // --- the pattern subset ---

  void patterns_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("matches");
    const QString date = QStringLiteral(
        "^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$");
    patternRow("date year", date, "2020", true);
    patternRow("date month", date, "2020-02", true);
    patternRow("date full", date, "2020-12-31", true);
    patternRow("date month 13", date, "2020-13-01", false);
    patternRow("date year 0000", date, "0000", false);
    patternRow("date short month", date, "2020-1-01", false);
    patternRow("date trailing space", date, "2020-01-01 ", false);
    patternRow("date trailing newline", date, "2020-01-01\n", false);  // $ is not Python's $
    const QString dateTime = QStringLiteral(
        "^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01]["
        "0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$");
    patternRow("dateTime offset", dateTime, "2015-02-07T13:28:17-05:00", true);
    patternRow("dateTime fraction", dateTime, "2015-02-07T13:28:17.239+14:00", true);
    patternRow("dateTime no seconds", dateTime, "2015-02-07T13:28", false);
    patternRow("dateTime hour 24", dateTime, "2015-02-07T24:00:00Z", false);
    patternRow("dateTime no zone", dateTime, "2015-02-07T13:28:17", false);
    const QString code = QStringLiteral("^[^\\s]+(\\s[^\\s]+)*$");
    patternRow("code", code, "a b", true);
    patternRow("code two spaces", code, "a  b", false);
    patternRow("code leading space", code, " a", false);
    patternRow("code nbsp", code, QStringLiteral("a\u00a0b"), true);  // \s, like a space
    patternRow("code non-ASCII", code, QStringLiteral("caf\u00e9"), true);
    const QString string = QStringLiteral("^[ \\r\\n\\t\\S]+$");
    patternRow("string", string, "line\r\nnext\ttab", true);
    patternRow("string empty", string, "", false);
    patternRow("string form feed", string, "a\fb", false);
    patternRow("string nbsp", string, QStringLiteral("a\u00a0b"), false);
    patternRow("string emoji", string, QStringLiteral("\U0001F600"), true);
    const QString id = QStringLiteral("^[A-Za-z0-9\\-\\.]{1,64}$");
    patternRow("id 64", id, QString(64, QLatin1Char('a')), true);
    patternRow("id 65", id, QString(65, QLatin1Char('a')), false);
    patternRow("id dash dot", id, "a-b.c", true);
    patternRow("id underscore", id, "a_b", false);
    const QString base64 = QStringLiteral("^(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+$");
    patternRow("base64", base64, "QUJD", true);
    patternRow("base64 wrapped", base64, " QUJD\nRA== ", true);
    patternRow("base64 short", base64, "QUJ", false);
    patternRow("base64 empty", base64, "", false);
    patternRow("oid", "^urn:oid:[0-2](\\.(0|[1-9][0-9]*))+$", "urn:oid:1.2.840", true);
    patternRow("oid leading zero", "^urn:oid:[0-2](\\.(0|[1-9][0-9]*))+$", "urn:oid:1.02", false);
    const QString uuid = QStringLiteral("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    patternRow("uuid", uuid, "urn:uuid:0b9d1e3a-3d2c-4c55-9b8e-1f2a3b4c5d6e", true);
    patternRow("uuid upper case", uuid, "urn:uuid:0B9D1E3A-3d2c-4c55-9b8e-1f2a3b4c5d6e", false);
    // "^true|false$" is (^true)|(false$), searched for.
    patternRow("alternation of anchors 1", "^true|false$", "true", true);
    patternRow("alternation of anchors 2", "^true|false$", "truex", true);
    patternRow("alternation of anchors 3", "^true|false$", "xfalse", true);
    patternRow("alternation of anchors 4", "^true|false$", "xtruex", false);
    patternRow("unanchored", "b+", "abbc", true);
    patternRow("unanchored miss", "b+", "ac", false);
    patternRow("dot", "^a.c$", QStringLiteral("a\u00e9c"), true);
    patternRow("dot newline", "^a.c$", "a\nc", false);
    patternRow("digits", "^\\d{3}$", "123", true);
    patternRow("digits ASCII only", "^\\d{3}$", QStringLiteral("\u0661\u0662\u0663"), false);
    patternRow("word", "^\\w+$", "a_1", true);
    patternRow("word dash", "^\\w+$", "a-1", false);
    patternRow("not word", "^\\W\\D\\S$", "-x!", true);
    patternRow("lazy", "^a+?$", "aaa", true);
    patternRow("at least two 1", "^a{2,}$", "a", false);
    patternRow("at least two 2", "^a{2,}$", "aaaa", true);
    patternRow("range 1", "^a{2,3}$", "aaa", true);
    patternRow("range 2", "^a{2,3}$", "aaaa", false);
    patternRow("empty alternative", "^(a|)$", "", true);
    patternRow("empty loop", "^(a*)*$", "aaaa", true);
    patternRow("empty loop miss", "^(a*)*$", "aab", false);
    patternRow("non-capturing", "^(?:ab)+$", "abab", true);
    patternRow("negated range", "^[^a-c]+$", "xyz", true);
    patternRow("negated range miss", "^[^a-c]+$", "xbz", false);
    patternRow("hex escapes", "^\\x41\\u00e9$", QStringLiteral("A\u00e9"), true);
    patternRow("literal brace", "^a{$", "a{", true);
    patternRow("non-ASCII range", QStringLiteral("^[\u00e0-\u00ff]$"), QStringLiteral("\u00e9"), true);
    patternRow("non-ASCII range miss", QStringLiteral("^[\u00e0-\u00ff]$"), "e", false);
    patternRow("dash at class end", "^[a-]+$", "a-a", true);
    patternRow("escaped bracket", "^[\\]\\[]+$", "][", true);
  }
  void patterns() {
    QFETCH(QString, pattern);
    QFETCH(QString, text);
    QFETCH(bool, matches);
    QString why;
    QCOMPARE(patternMatches(pattern.toStdString(), text.toStdString(), &why), matches);
    QVERIFY2(why.isEmpty(), qPrintable(why));
  }

  // --- the generic validator ---

  void genericKeywords() {
    const Result<Schema> compiled = compileText(
        dq("{'definitions': {"
           "  'int': {'type': 'integer'},"
           "  'multi': {'type': ['string', 'null']},"
           "  'choice': {'enum': [1, 'a', null]},"
           "  'fixed': {'const': {'a': [1, 2], 'b': true}},"
           "  'never': false,"
           "  'always': true,"
           "  'either': {'oneOf': [{'type': 'string'}, {'type': 'number'}, {'type': 'integer'}]},"
           "  'open': {'properties': {'a': {'type': 'string'}}, 'additionalProperties': {'type': 'number'}},"
           "  'loose': {'properties': {'a': {'type': 'string'}}},"
           "  'list': {'type': 'array', 'items': {'$ref': '#/definitions/int'}},"
           "  'alias': {'$ref': '#/definitions/int'},"
           "  'self': {'properties': {'next': {'$ref': '#/definitions/self'}}, 'additionalProperties': false},"
           "  'p': {'type': 'string', 'pattern': 'b+'},"
           "  'anyp': {'pattern': 'b+'}"
           "},"
           "'$ref': '#/definitions/int'}"));
    QVERIFY2(compiled.isOk(), compiled.status().toString().c_str());
    const Schema& s = compiled.value();
    auto one = [&](const char* value, const char* def) {
      const std::vector<SchemaError> e = s.validate(parseOrNull(value), def);
      return e.size() == 1 ? q(e[0].path + "|" + e[0].message) : QStringLiteral("%1 errors").arg(e.size());
    };
    auto ok = [&](const char* value, const char* def) { return s.validate(parseOrNull(value), def).empty(); };

    QVERIFY(ok("3", "int"));
    QVERIFY(ok("3.0", "int"));  // draft-06: a number with a zero fraction is an integer
    QCOMPARE(one("3.5", "int"), QStringLiteral("|expected an integer, found a number"));
    QCOMPARE(one("3.5", ""), QStringLiteral("|expected an integer, found a number"));  // the root
    QVERIFY(ok("null", "multi"));
    QCOMPARE(one("1", "multi"), QStringLiteral("|expected null or a string, found a number"));
    QVERIFY(ok("1.0", "choice"));
    QVERIFY(ok("null", "choice"));
    QCOMPARE(one("\"b\"", "choice"), QStringLiteral("|'b' is not one of 1, a, null"));
    QVERIFY(ok(R"({"b":true,"a":[1,2.0]})", "fixed"));
    QCOMPARE(one(R"({"a":[2,1],"b":true})", "fixed"),
             QStringLiteral(R"(|expected {"a":[1,2],"b":true}, found {"a":[2,1],"b":true})"));
    QCOMPARE(one("1", "never"), QStringLiteral("|no value is allowed here"));
    QVERIFY(ok(R"({"x":[1]})", "always"));
    QVERIFY(ok("\"x\"", "either"));
    QCOMPARE(one("2", "either"), QStringLiteral("|matches 2 of the allowed forms where exactly one must match"));
    QCOMPARE(one("true", "either"), QStringLiteral("|matches none of the 3 allowed forms"));
    QVERIFY(ok(R"({"a":"x","b":1})", "open"));
    QCOMPARE(one(R"({"a":"x","b":"y"})", "open"), QStringLiteral("b|expected a number, found a string"));
    QCOMPARE(one(R"({"x.y":"s"})", "open"), QStringLiteral(R"(["x.y"]|expected a number, found a string)"));
    const std::string longKey(100, 'k');
    const std::vector<SchemaError> longKeyErrors =
        s.validate(parseOrNull(R"({"next":{")" + longKey + R"(":1}})"), "self");
    QCOMPARE(longKeyErrors.size(), std::size_t{1});
    QCOMPARE(q(longKeyErrors[0].path), QStringLiteral("next[\"") + QString(60, QLatin1Char('k')) + "...\"]");
    QCOMPARE(q(longKeyErrors[0].message), "unknown property '" + QString(60, QLatin1Char('k')) + "...'");
    QVERIFY(ok(R"({"zzz":1})", "loose"));
    QCOMPARE(one("[]", "loose"), QStringLiteral("|expected an object, found an array"));
    QCOMPARE(one("[1,2,\"3\"]", "list"), QStringLiteral("[2]|expected an integer, found a string"));
    QCOMPARE(one("1.5", "alias"), QStringLiteral("|expected an integer, found a number"));
    QCOMPARE(one(R"({"next":{"next":{"nest":{}}}})", "self"), QStringLiteral("next.next.nest|unknown property 'nest'"));
    QVERIFY(ok("\"abbbc\"", "p"));
    QCOMPARE(one("\"ac\"", "p"), QStringLiteral("|does not match the pattern of definition 'p'"));
    QVERIFY(ok("5", "anyp"));  // pattern is for strings only
    QVERIFY(ok("\"abc\"", "anyp"));
    QCOMPARE(one("\"ac\"", "anyp"), QStringLiteral("|does not match the pattern of definition 'anyp'"));
    QCOMPARE(one("1", "nope"), QStringLiteral("|the schema has no definition 'nope'"));
    QVERIFY(s.hasDefinition("self"));
    QVERIFY(!s.hasDefinition("nope"));

    // Copies share the compiled tree; a moved-from or empty schema refuses.
    Schema copy = s;
    QVERIFY(copy.validate(parseOrNull("1"), "int").empty());
    Schema moved = std::move(copy);
    QVERIFY(moved.validate(parseOrNull("1"), "int").empty());
    QVERIFY(!copy.isCompiled());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    QCOMPARE(copy.validate(parseOrNull("1"), "int").size(), std::size_t{1});
    const Schema empty;
    QVERIFY(!empty.isCompiled());
    QCOMPARE(empty.validate(parseOrNull("1"), "").size(), std::size_t{1});
  }

  void enumListsAreCut() {
    std::string values;
    for (int i = 0; i < 20; ++i) values += (i ? ",\"v" : "\"v") + std::to_string(i) + "\"";
    const Result<Schema> s = compileText(R"({"enum":[)" + values + "]}");
    QVERIFY(s.isOk());
    const std::vector<SchemaError> e = s.value().validate(json::Value(std::string(100, 'x')), "");
    QCOMPARE(e.size(), std::size_t{1});
    QCOMPARE(q(e[0].message), QStringLiteral("'") + QString(60, QLatin1Char('x')) +
                                  QStringLiteral("...' is not one of v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, "
                                                 "v11 and 8 more"));
  }

  void compileErrors_data() {
    QTest::addColumn<QString>("schema");  // single quotes for double
    QTest::addColumn<QString>("message");
    compileErrorRow("unsupported keyword", "{'definitions': {'x': {'minLength': 3}}}",
                    "#/definitions/x/minLength: unsupported keyword 'minLength'");
    compileErrorRow("unknown definition", "{'$ref': '#/definitions/missing'}",
                    "#: $ref '#/definitions/missing' names no definition");
    compileErrorRow("remote ref", "{'properties': {'a': {'$ref': 'http://example.org/s.json'}}}",
                    "#/properties/a: unsupported $ref 'http://example.org/s.json' (only # and #/definitions/NAME)");
    compileErrorRow("ref cycle",
                    "{'definitions': {'a': {'$ref': '#/definitions/b'}, 'b': {'$ref': '#/definitions/a'}}}",
                    "#/definitions/a: $ref '#/definitions/b' only leads to $refs (a cycle)");
    compileErrorRow("unknown type", "{'type': 'strin'}", "#/type: unknown type 'strin'");
    compileErrorRow("schema not an object", "{'items': 3}", "#/items: a schema must be an object or a boolean");
    compileErrorRow("backreference", "{'pattern': '(a)\\\\1'}",
                    "#/pattern: pattern (a)\\1: unsupported escape \\1 at offset 4");
    compileErrorRow("look-ahead", "{'pattern': 'a(?=b)'}",
                    "#/pattern: pattern a(?=b): unsupported group (look-around or named) at offset 2");
    compileErrorRow("word boundary", "{'pattern': '\\\\bx'}",
                    "#/pattern: pattern \\bx: unsupported escape \\b at offset 1");
    compileErrorRow("huge repeat", "{'pattern': 'a{2000}'}",
                    "#/pattern: pattern a{2000}: repeat count above 1000 at offset 7");
    compileErrorRow("bad range", "{'pattern': '[z-a]'}", "#/pattern: pattern [z-a]: range out of order at offset 4");
    compileErrorRow("unbalanced", "{'pattern': '(a'}", "#/pattern: pattern (a: missing ')' at offset 2");
    compileErrorRow("unbalanced close", "{'pattern': 'a)'}", "#/pattern: pattern a): unbalanced ')' at offset 1");
    compileErrorRow("nothing to repeat", "{'pattern': '*a'}", "#/pattern: pattern *a: nothing to repeat at offset 0");
    compileErrorRow("two quantifiers", "{'pattern': 'a*+'}", "#/pattern: pattern a*+: nothing to repeat at offset 2");
    compileErrorRow("quantified anchor", "{'pattern': '^*'}",
                    "#/pattern: pattern ^*: an anchor cannot be repeated at offset 2");
    compileErrorRow("discriminator alone", "{'discriminator': {'propertyName': 't', 'mapping': {}}}",
                    "#/discriminator: a discriminator needs a oneOf next to it");
  }
  void compileErrors() {
    QFETCH(QString, schema);
    QFETCH(QString, message);
    const Result<Schema> s = compileText(dq(schema.toStdString()));
    QVERIFY(!s.isOk());
    QCOMPARE(s.status().code(), Status::Code::kInvalidArgument);
    QCOMPARE(q(s.status().message()), message);
  }
};

QTEST_GUILESS_MAIN(JsonSchemaTest)
#include "json_schema_test.moc"
