// The key = value config format: comments, blank lines, trimming, quoting,
// CRLF, line numbers, and every error with "<file>:<line>: ".
#include "kv_file.h"

#include <QtTest>
#include <string>
#include <vector>

using charta::crdt::Result;
using charta::crdt::Status;
using charta::server::KvEntry;
using charta::server::parseKvFile;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class KvFileTest : public QObject {
  Q_OBJECT

 private slots:
  void parsesEntriesInOrder() {
    const std::string text =
        "# charta server\n"
        "\n"
        "http.port = 8443\n"
        "  db.path=/var/lib/charta/db.sqlite   \n"
        "\tlog-level\t=\tinfo # inline comment\n"
        "motd = \"  # kept, \\\"quoted\\\" and \\\\ \"  # comment after\n"
        "empty =\n"
        "empty_quoted = \"\"\r\n"
        "with_eq = a=b\n"
        "inner_quote = say \"hi\"\n"
        "last.line = 1";
    const Result<std::vector<KvEntry>> r = parseKvFile(text, "charta.conf");
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    const std::vector<KvEntry>& e = r.value();
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"http.port", "8443"}, {"db.path", "/var/lib/charta/db.sqlite"},
        {"log-level", "info"}, {"motd", "  # kept, \"quoted\" and \\ "},
        {"empty", ""},         {"empty_quoted", ""},
        {"with_eq", "a=b"},    {"inner_quote", "say \"hi\""},
        {"last.line", "1"},
    };
    const std::vector<int> lines = {3, 4, 5, 6, 7, 8, 9, 10, 11};
    QCOMPARE(e.size(), expected.size());
    for (std::size_t i = 0; i < e.size(); ++i) {
      QCOMPARE(q(e[i].key), q(expected[i].first));
      QCOMPARE(q(e[i].value), q(expected[i].second));
      QCOMPARE(e[i].line, lines[i]);
    }
  }

  void emptyAndCommentOnlyFiles() {
    QVERIFY(parseKvFile("", "a").isOk());
    QVERIFY(parseKvFile("", "a").value().empty());
    const Result<std::vector<KvEntry>> r = parseKvFile("# only\n\n   \n\t# indented\r\n", "a");
    QVERIFY(r.isOk());
    QVERIFY(r.value().empty());
  }

  void errors_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing =") << "a = 1\n# c\nport 8443\n"
                               << "x.conf:3: expected '=' between key and value";
    QTest::newRow("uppercase key") << "Port = 1\n"
                                   << "x.conf:1: bad key \"Port\" (expected [a-z0-9_.-]+)";
    QTest::newRow("space in key") << "\n\nmy key = 1\n"
                                  << "x.conf:3: bad key \"my key\" (expected [a-z0-9_.-]+)";
    QTest::newRow("empty key") << "= 1\n"
                               << "x.conf:1: bad key \"\" (expected [a-z0-9_.-]+)";
    QTest::newRow("duplicate") << "a = 1\nb = 2\n\na = 3\n"
                               << "x.conf:4: duplicate key \"a\" (first on line 1)";
    QTest::newRow("unterminated quote") << "a = 1\nb = \"abc\n"
                                        << "x.conf:2: unterminated quote";
    QTest::newRow("escaped final quote") << "b = \"abc\\\"\n"
                                         << "x.conf:1: unterminated quote";
    QTest::newRow("text after quote") << "b = \"abc\" def\n"
                                      << "x.conf:1: unexpected text after the closing quote";
    QTest::newRow("bad escape") << "b = \"a\\nb\"\n"
                                << "x.conf:1: expected \\\" or \\\\ after '\\' in a quoted value";
    QTest::newRow("control character") << "a = 1\nb = x\x01y\n"
                                       << "x.conf:2: control character";
    QTest::newRow("CR inside line") << "a = 1\rb = 2\n"
                                    << "x.conf:1: control character";
  }
  void errors() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    const Result<std::vector<KvEntry>> r = parseKvFile(text.toStdString(), "x.conf");
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), Status::Code::kInvalidArgument);
    QCOMPARE(q(r.status().message()), message);
  }

  void nulByteIsRefused() {
    const std::string text("a = 1\nb = \0\n", 12);
    QCOMPARE(q(parseKvFile(text, "f").status().message()), QStringLiteral("f:2: control character"));
  }
};

QTEST_APPLESS_MAIN(KvFileTest)
#include "kv_file_test.moc"
