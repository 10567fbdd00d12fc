// The JSON Schema validator and the FHIR R4 schema built into the server: the
// sample bundles (valid ones pass, STU3-shaped ones fail with entry paths), a
// differential check against python3-jsonschema's Draft6Validator, exact
// messages for hand-made mistakes, the regex subset, 4 MB strings on a small
// stack, compile errors, and concurrent use.
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
#include "json_schema.h"

using charta::crdt::Result;
using charta::crdt::Status;
using charta::server::fhirR4Schema;
using charta::server::fhirR4SchemaText;
using charta::server::validateFhirBundle;
using charta::server::jsonschema::CompileOptions;
using charta::server::jsonschema::Schema;
using charta::server::jsonschema::SchemaError;
namespace json = charta::server::json;

namespace {

constexpr std::size_t kAllErrors = std::numeric_limits<std::size_t>::max();

QString q(const std::string& s) { return QString::fromStdString(s); }

QString dataDir(const char* sub) { return QStringLiteral(CHARTA_FHIR_DATA_DIR "/") + QLatin1String(sub); }

QStringList bundleFiles(const char* sub) {
  const QDir dir(dataDir(sub));
  QStringList out;
  for (const QString& name : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
    out << dir.filePath(name);
  }
  return out;
}

json::Value parseOrNull(std::string_view text) {
  Result<json::Value> r = json::parse(text);
  if (!r.isOk()) {
    qWarning("parse failed: %s", r.status().toString().c_str());
    return json::Value();
  }
  return std::move(r).value();
}

json::Value loadJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    qWarning("cannot open %s", qPrintable(path));
    return json::Value();
  }
  const QByteArray bytes = f.readAll();
  return parseOrNull(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
}

QString describe(const std::vector<SchemaError>& errors, std::size_t max = 5) {
  QStringList lines;
  for (std::size_t k = 0; k < errors.size() && k < max; ++k) {
    lines << q(errors[k].path) + QStringLiteral(": ") + q(errors[k].message);
  }
  if (errors.size() > max) lines << QStringLiteral("... %1 in all").arg(errors.size());
  return lines.join(QStringLiteral("\n  "));
}

// The entry an error belongs to: N for a path "entry[N]...", -1 otherwise.
long long entryIndexOf(const std::string& path) {
  static const std::string kPrefix = "entry[";
  if (path.rfind(kPrefix, 0) != 0) return -1;
  const std::size_t close = path.find(']', kPrefix.size());
  if (close == std::string::npos) return -1;
  return std::stoll(path.substr(kPrefix.size(), close - kPrefix.size()));
}

std::set<long long> entriesWithErrors(const std::vector<SchemaError>& errors) {
  std::set<long long> out;
  for (const SchemaError& e : errors) out.insert(entryIndexOf(e.path));
  return out;
}

QString setText(const std::set<long long>& s) {
  QStringList parts;
  for (long long i : s) parts << QString::number(i);
  return parts.join(QLatin1Char(','));
}

// A transaction bundle with one entry holding `resource` (JSON text).
json::Value bundleWith(const std::string& resource) {
  return parseOrNull(R"({"resourceType":"Bundle","type":"transaction","entry":[{)"
                     R"("fullUrl":"urn:uuid:0b9d1e3a-3d2c-4c55-9b8e-1f2a3b4c5d6e","resource":)" +
                     resource + R"(,"request":{"method":"POST","url":"Patient"}}]})");
}

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
void mistake(const char* name, const QString& resource, const QString& path, const QString& message) {
  QTest::newRow(name) << resource << path << message;
}
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

// For each bundle file given: the entry indexes that python3-jsonschema finds
// an error in (-1 for the bundle outside its entries), as one JSON line. The
// bundle is checked without its resources (ResourceList accepts anything
// there), and each resource against its own definition, which is quicker than
// the oneOf over all resource types. Plain literals, not a raw string: moc
// reads "#..." lines inside raw strings as directives and loses the class.
const char kPythonChecker[] =
    "import copy, json, sys\n"
    "try:\n"
    "    from jsonschema import Draft6Validator\n"
    "except ImportError:\n"
    "    print(\"no jsonschema module\", file=sys.stderr)\n"
    "    sys.exit(3)\n"
    "\n"
    "schema = json.load(open(sys.argv[1], encoding=\"utf-8\"))\n"
    "mapping = schema[\"discriminator\"][\"mapping\"]\n"
    "\n"
    "def validator(root, ref):\n"
    "    sub = dict(root)\n"
    "    sub.pop(\"oneOf\", None)\n"
    "    sub.pop(\"discriminator\", None)\n"
    "    sub[\"$ref\"] = ref\n"
    "    return Draft6Validator(sub)\n"
    "\n"
    "shell = copy.deepcopy(schema)\n"
    "shell[\"definitions\"][\"ResourceList\"] = {}\n"
    "shell_validator = validator(shell, \"#/definitions/Bundle\")\n"
    "validators = {}\n"
    "\n"
    "for n, path in enumerate(sys.argv[2:]):\n"
    "    bundle = json.load(open(path, encoding=\"utf-8\"))\n"
    "    bad = set()\n"
    "    for e in shell_validator.iter_errors(bundle):\n"
    "        p = list(e.absolute_path)\n"
    "        bad.add(p[1] if len(p) >= 2 and p[0] == \"entry\" and isinstance(p[1], int) else -1)\n"
    "    entries = bundle.get(\"entry\") if isinstance(bundle, dict) else None\n"
    "    for i, entry in enumerate(entries if isinstance(entries, list) else []):\n"
    "        if not isinstance(entry, dict) or \"resource\" not in entry:\n"
    "            continue\n"
    "        resource = entry[\"resource\"]\n"
    "        rt = resource.get(\"resourceType\") if isinstance(resource, dict) else None\n"
    "        if not isinstance(rt, str) or rt not in mapping:\n"
    "            bad.add(i)\n"
    "            continue\n"
    "        if rt not in validators:\n"
    "            validators[rt] = validator(schema, mapping[rt])\n"
    "        if next(validators[rt].iter_errors(resource), None) is not None:\n"
    "            bad.add(i)\n"
    "    print(json.dumps({\"file\": n, \"bad\": sorted(bad)}))\n";

}  // namespace

class FhirSchemaTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QElapsedTimer timer;
    timer.start();
    const Schema& schema = fhirR4Schema();
    qInfo("FHIR R4 schema: %zu bytes embedded, parsed and compiled in %lld ms", fhirR4SchemaText().size(),
          static_cast<long long>(timer.elapsed()));
    QVERIFY(schema.isCompiled());
    QVERIFY(schema.hasDefinition("Bundle"));
    QVERIFY(schema.hasDefinition("Patient"));
    QVERIFY(schema.hasDefinition("ResourceList"));
    QVERIFY(!schema.hasDefinition("Pateint"));
    QVERIFY(fhirR4SchemaText().size() > 3000000);
    QCOMPARE(fhirR4SchemaText().front(), '{');
    QCOMPARE(bundleFiles("synthea-r4").size(), 20);
    QCOMPARE(bundleFiles("synthea-r4-modern").size(), 4);
    QCOMPARE(bundleFiles("invalid").size(), 5);
  }

  // --- the sample bundles ---

  void validBundlesHaveNoErrors_data() {
    QTest::addColumn<QString>("file");
    for (const char* sub : {"synthea-r4", "synthea-r4-modern"}) {
      for (const QString& f : bundleFiles(sub)) QTest::newRow(qPrintable(QFileInfo(f).fileName())) << f;
    }
  }
  void validBundlesHaveNoErrors() {
    QFETCH(QString, file);
    const json::Value bundle = loadJson(file);
    QVERIFY(bundle.isObject());
    QVERIFY(bundle.find("entry") && bundle.find("entry")->isArray() && !bundle.find("entry")->asArray()->empty());
    const std::vector<SchemaError> errors = validateFhirBundle(bundle);
    QVERIFY2(errors.empty(), qPrintable(describe(errors)));
  }

  void invalidBundlesHaveEntryErrors_data() {
    QTest::addColumn<QString>("file");
    for (const QString& f : bundleFiles("invalid")) QTest::newRow(qPrintable(QFileInfo(f).fileName())) << f;
  }
  void invalidBundlesHaveEntryErrors() {
    QFETCH(QString, file);
    const json::Value bundle = loadJson(file);
    QVERIFY(bundle.isObject());
    const std::vector<SchemaError> errors = validateFhirBundle(bundle, kAllErrors);
    QVERIFY(!errors.empty());
    const QRegularExpression inResource(QStringLiteral("^entry\\[\\d+\\]\\.resource(\\.|\\[|$)"));
    bool context = false, claimUse = false;
    for (const SchemaError& e : errors) {
      QVERIFY2(inResource.match(q(e.path)).hasMatch(), qPrintable(q(e.path) + ": " + q(e.message)));
      QVERIFY2(!e.message.empty(), qPrintable(q(e.path)));
      if (e.message == "unknown property 'context'" &&
          QRegularExpression(QStringLiteral("^entry\\[\\d+\\]\\.resource\\.context$")).match(q(e.path)).hasMatch()) {
        context = true;
      }
      if (e.message == "'complete' is not one of claim, preauthorization, predetermination" &&
          QRegularExpression(QStringLiteral("^entry\\[\\d+\\]\\.resource\\.use$")).match(q(e.path)).hasMatch()) {
        claimUse = true;
      }
    }
    QVERIFY2(context, qPrintable(describe(errors)));
    QVERIFY2(claimUse, qPrintable(describe(errors)));
    // The default cap.
    QCOMPARE(validateFhirBundle(bundle).size(), std::min<std::size_t>(errors.size(), 100));
  }

  // The same entries are wrong for python3-jsonschema (Draft6Validator, each
  // resource against #/definitions/<resourceType>, plus the bundle around
  // them) as for ours; the valid bundles are included for good measure.
  void agreesWithPythonJsonschema() {
    const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
    const QString hint = QStringLiteral(
        "this test compares with python3 and its jsonschema module; scripts/install-deps installs "
        "python3-jsonschema");
    if (python.isEmpty()) QFAIL(qPrintable(QStringLiteral("python3 not found: ") + hint));
    {
      QProcess probe;
      probe.start(python, {QStringLiteral("-c"), QStringLiteral("import jsonschema")});
      QVERIFY(probe.waitForFinished(60000));
      if (probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0) {
        QFAIL(qPrintable(QStringLiteral("python3 cannot import jsonschema: ") + hint));
      }
    }

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString script = tmp.filePath(QStringLiteral("check.py"));
    const QString schemaFile = tmp.filePath(QStringLiteral("fhir.schema.json"));
    {
      QFile f(script);
      QVERIFY(f.open(QIODevice::WriteOnly));
      QVERIFY(f.write(kPythonChecker) > 0);
      QFile s(schemaFile);  // the very bytes built into the server
      QVERIFY(s.open(QIODevice::WriteOnly));
      const std::string_view text = fhirR4SchemaText();
      QCOMPARE(s.write(text.data(), static_cast<qint64>(text.size())), static_cast<qint64>(text.size()));
    }

    const QStringList invalid = bundleFiles("invalid");
    QStringList files = invalid;
    files << bundleFiles("synthea-r4") << bundleFiles("synthea-r4-modern");
    QProcess py;
    py.start(python, QStringList{script, schemaFile} + files);
    QVERIFY(py.waitForFinished(240000));
    const QByteArray stderrText = py.readAllStandardError();
    QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, stderrText.constData());

    std::map<long long, std::set<long long>> pythonBad;
    for (const QByteArray& line : py.readAllStandardOutput().split('\n')) {
      if (line.trimmed().isEmpty()) continue;
      const json::Value v = parseOrNull(std::string_view(line.constData(), static_cast<std::size_t>(line.size())));
      QVERIFY2(v.isObject(), line.constData());
      const long long n = *v.find("file")->asInt();
      std::set<long long>& bad = pythonBad[n];
      for (const json::Value& i : *v.find("bad")->asArray()) bad.insert(*i.asInt());
    }
    QCOMPARE(pythonBad.size(), static_cast<std::size_t>(files.size()));

    for (qsizetype n = 0; n < files.size(); ++n) {
      const json::Value bundle = loadJson(files[n]);
      const std::set<long long> ours = entriesWithErrors(validateFhirBundle(bundle, kAllErrors));
      const std::set<long long>& theirs = pythonBad[n];
      if (n < invalid.size()) QVERIFY2(!theirs.empty(), qPrintable(files[n]));
      QVERIFY2(ours == theirs, qPrintable(QFileInfo(files[n]).fileName() + QStringLiteral(": ours ") + setText(ours) +
                                          QStringLiteral(" python ") + setText(theirs)));
      qInfo("%s: %zu entries with errors, the same in both", qPrintable(QFileInfo(files[n]).fileName()), ours.size());
    }
  }

  // --- exact messages ---

  void handMadeMistakes_data() {
    QTest::addColumn<QString>("resource");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");
    mistake("unknown property", R"({"resourceType":"Patient","context":{"reference":"Encounter/1"}})",
            "entry[0].resource.context", "unknown property 'context'");
    mistake("missing required", R"({"resourceType":"Observation","status":"final"})", "entry[0].resource",
            "missing required property 'code'");
    mistake("wrong type", R"({"resourceType":"Patient","active":"yes"})", "entry[0].resource.active",
            "expected a boolean, found a string");
    mistake("number for a string", R"({"resourceType":"Patient","name":[{"family":42}]})",
            "entry[0].resource.name[0].family", "expected a string, found a number");
    mistake("enum", R"({"resourceType":"Patient","gender":"mal"})", "entry[0].resource.gender",
            "'mal' is not one of male, female, other, unknown");
    mistake("enum in a backbone element",
            R"({"resourceType":"Patient","link":[{"other":{"reference":"Patient/2"},"type":"same"}]})",
            "entry[0].resource.link[0].type", "'same' is not one of replaced-by, replaces, refer, seealso");
    mistake("bad date", R"({"resourceType":"Patient","birthDate":"2020-13-01"})", "entry[0].resource.birthDate",
            "does not match the pattern of a FHIR date");
    mistake("bad dateTime", R"({"resourceType":"Patient","deceasedDateTime":"2020-01-01T25:00:00Z"})",
            "entry[0].resource.deceasedDateTime", "does not match the pattern of a FHIR dateTime");
    mistake("inline date pattern",
            R"({"resourceType":"Patient","extension":[{"url":"http://example.org/x","valueDate":"2020-1-01"}]})",
            "entry[0].resource.extension[0].valueDate", "does not match the pattern of a FHIR date");
    mistake("code with two spaces", R"({"resourceType":"Patient","language":"en  US"})", "entry[0].resource.language",
            "does not match the pattern of a FHIR code");
    mistake("uri with a space", R"({"resourceType":"Patient","implicitRules":"http://x y"})",
            "entry[0].resource.implicitRules", "does not match the pattern of a FHIR uri");
    mistake("id too long", ("{\"resourceType\":\"Patient\",\"id\":\"" + QString(65, QLatin1Char('a')) + "\"}"),
            "entry[0].resource.id", "does not match the pattern of a FHIR id");
    mistake("empty string", R"({"resourceType":"Patient","name":[{"text":""}]})", "entry[0].resource.name[0].text",
            "does not match the pattern of a FHIR string");
    mistake("unknown resourceType", R"({"resourceType":"Pateint","id":"p1"})", "entry[0].resource.resourceType",
            "unknown resourceType 'Pateint'");
    mistake("non-resource definition as resourceType", R"({"resourceType":"Coding"})", "entry[0].resource.resourceType",
            "unknown resourceType 'Coding'");
    mistake("missing resourceType", R"({"id":"p1","gender":"female"})", "entry[0].resource",
            "missing required property 'resourceType'");
    mistake("resourceType not a string", R"({"resourceType":7})", "entry[0].resource.resourceType",
            "expected a string, found a number");
    mistake("array where object expected", R"({"resourceType":"Patient","maritalStatus":[{"text":"married"}]})",
            "entry[0].resource.maritalStatus", "expected an object, found an array");
    mistake("string where object expected", R"({"resourceType":"Patient","maritalStatus":"married"})",
            "entry[0].resource.maritalStatus", "expected an object, found a string");
    mistake("object where array expected", R"({"resourceType":"Patient","name":{"family":"Doe"}})",
            "entry[0].resource.name", "expected an array, found an object");
    mistake("nested array index", R"({"resourceType":"Patient","name":[{"family":"Doe"},{"given":"Ann"}]})",
            "entry[0].resource.name[1].given", "expected an array, found a string");
    mistake("resource is an array", "[]", "entry[0].resource", "expected an object, found an array");
    mistake("null value", R"({"resourceType":"Patient","gender":null})", "entry[0].resource.gender",
            "null is not one of male, female, other, unknown");
  }
  void handMadeMistakes() {
    QFETCH(QString, resource);
    QFETCH(QString, path);
    QFETCH(QString, message);
    const json::Value bundle = bundleWith(resource.toStdString());
    QVERIFY(bundle.isObject());
    const std::vector<SchemaError> errors = validateFhirBundle(bundle);
    QVERIFY2(errors.size() == 1, qPrintable(describe(errors)));
    QCOMPARE(q(errors[0].path), path);
    QCOMPARE(q(errors[0].message), message);
  }

  void theBaseBundleIsValid() {
    const json::Value bundle =
        bundleWith(R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-31",)"
                   R"("name":[{"family":"Doe","given":["Ann"]}],"multipleBirthInteger":2,"active":true})");
    const std::vector<SchemaError> errors = validateFhirBundle(bundle);
    QVERIFY2(errors.empty(), qPrintable(describe(errors)));
  }

  void bundleItself() {
    std::vector<SchemaError> errors = validateFhirBundle(json::Value::array());
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].path), QString());
    QCOMPARE(q(errors[0].message), QStringLiteral("expected an object, found an array"));

    errors = validateFhirBundle(parseOrNull(R"({"resourceType":"Patient"})"));
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].path), QStringLiteral("resourceType"));
    QCOMPARE(q(errors[0].message), QStringLiteral("expected 'Bundle', found 'Patient'"));

    errors = validateFhirBundle(parseOrNull(R"({"type":"batch"})"));
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].message), QStringLiteral("missing required property 'resourceType'"));

    errors = validateFhirBundle(parseOrNull(R"({"resourceType":"Bundle","type":"transaction","entry":{}})"));
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].path), QStringLiteral("entry"));
    QCOMPARE(q(errors[0].message), QStringLiteral("expected an array, found an object"));

    errors = validateFhirBundle(
        parseOrNull(R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Basic",)"
                    R"("code":{"text":"x"}},"request":{"method":"FETCH","url":"Basic"}}]})"));
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].path), QStringLiteral("entry[0].request.method"));
    QCOMPARE(q(errors[0].message), QStringLiteral("'FETCH' is not one of GET, HEAD, POST, PUT, DELETE, PATCH"));
  }

  void constIsChecked() {
    const std::vector<SchemaError> errors =
        fhirR4Schema().validate(parseOrNull(R"({"resourceType":"Observation"})"), "Patient");
    QVERIFY2(errors.size() == 1, qPrintable(describe(errors)));
    QCOMPARE(q(errors[0].path), QStringLiteral("resourceType"));
    QCOMPARE(q(errors[0].message), QStringLiteral("expected 'Patient', found 'Observation'"));
  }

  // JSON Schema: "pattern" applies to strings only, so the FHIR integer and
  // decimal patterns never see numbers.
  void patternsIgnoreNumbers() {
    const Schema& s = fhirR4Schema();
    QVERIFY(s.validate(json::Value(1.5), "integer").empty());
    QVERIFY(s.validate(json::Value(0), "positiveInt").empty());
    QVERIFY(s.validate(json::Value(-3), "unsignedInt").empty());
    QVERIFY(s.validate(json::Value(1e300), "decimal").empty());
    QVERIFY(s.validate(json::Value(true), "boolean").empty());
    const std::vector<SchemaError> errors = s.validate(json::Value("5"), "integer");
    QCOMPARE(errors.size(), std::size_t{1});
    QCOMPARE(q(errors[0].message), QStringLiteral("expected a number, found a string"));
  }

  void maxErrorsIsHonoured() {
    std::string entries;
    for (int i = 0; i < 10; ++i) {
      if (i > 0) entries += ',';
      entries += R"({"resource":{"resourceType":"Patient","context":1},"request":{"method":"POST","url":"Patient"}})";
    }
    const json::Value bundle =
        parseOrNull(R"({"resourceType":"Bundle","type":"transaction","entry":[)" + entries + "]}");
    QCOMPARE(validateFhirBundle(bundle).size(), std::size_t{10});
    const std::vector<SchemaError> three = validateFhirBundle(bundle, 3);
    QCOMPARE(three.size(), std::size_t{3});
    QCOMPARE(q(three[0].path), QStringLiteral("entry[0].resource.context"));
    QCOMPARE(q(three[2].path), QStringLiteral("entry[2].resource.context"));
    QCOMPARE(validateFhirBundle(bundle, 1).size(), std::size_t{1});
    QCOMPARE(validateFhirBundle(bundle, 0).size(), std::size_t{1});  // at least one
  }

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

  // --- threads and time ---

  void concurrentValidationGivesTheSameAnswers() {
    const QStringList files = bundleFiles("invalid");
    QVERIFY(!files.isEmpty());
    const json::Value bundle = loadJson(files.first());
    const std::vector<SchemaError> expected = validateFhirBundle(bundle, kAllErrors);
    QVERIFY(!expected.empty());
    std::atomic<int> same{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int round = 0; round < 5; ++round) {
          const std::vector<SchemaError> got = validateFhirBundle(bundle, kAllErrors);
          const bool equal = std::equal(
              got.begin(), got.end(), expected.begin(), expected.end(),
              [](const SchemaError& a, const SchemaError& b) { return a.path == b.path && a.message == b.message; });
          if (equal) ++same;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    QCOMPARE(same.load(), 20);
  }

  // Not a timed test: prints how long the largest sample bundle takes.
  void largestBundleTime() {
    QString largest;
    qint64 size = 0;
    for (const char* sub : {"synthea-r4", "synthea-r4-modern"}) {
      for (const QString& f : bundleFiles(sub)) {
        if (QFileInfo(f).size() > size) {
          size = QFileInfo(f).size();
          largest = f;
        }
      }
    }
    const json::Value bundle = loadJson(largest);
    QVERIFY(bundle.isObject());
    qint64 best = std::numeric_limits<qint64>::max();
    for (int round = 0; round < 3; ++round) {
      QElapsedTimer timer;
      timer.start();
      const std::vector<SchemaError> errors = validateFhirBundle(bundle);
      best = std::min(best, timer.nsecsElapsed());
      QVERIFY2(errors.empty(), qPrintable(describe(errors)));
    }
    qInfo("%s (%lld bytes, %zu entries): validated in %.1f ms", qPrintable(QFileInfo(largest).fileName()),
          static_cast<long long>(size), bundle.find("entry")->asArray()->size(), static_cast<double>(best) / 1e6);
  }
};

QTEST_GUILESS_MAIN(FhirSchemaTest)
#include "schema_test.moc"
