// The FHIR R4 schema built into the server: the sample bundles (valid ones
// pass, STU3-shaped ones fail with entry paths), a differential check against
// python3-jsonschema's Draft6Validator, exact messages for hand-made mistakes,
// and concurrent use. The validator itself: json_schema_test.cpp.
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
#include "schema_test_support.h"

using charta::crdt::Result;
using charta::crdt::Status;
using charta::server::fhirR4Schema;
using charta::server::fhirR4SchemaText;
using charta::server::validateFhirBundle;
using charta::server::jsonschema::CompileOptions;
using charta::server::jsonschema::Schema;
using charta::server::jsonschema::SchemaError;
namespace json = charta::server::json;
using namespace charta::test::schema;

namespace {

constexpr std::size_t kAllErrors = std::numeric_limits<std::size_t>::max();

QString dataDir(const char* sub) { return QStringLiteral(CHARTA_FHIR_DATA_DIR "/") + QLatin1String(sub); }

QStringList bundleFiles(const char* sub) {
  const QDir dir(dataDir(sub));
  QStringList out;
  for (const QString& name : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
    out << dir.filePath(name);
  }
  return out;
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

// Rows for the data-driven tests below.
void mistake(const char* name, const QString& resource, const QString& path, const QString& message) {
  QTest::newRow(name) << resource << path << message;
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
