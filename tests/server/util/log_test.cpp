// The JSON-lines logger: file mode 0600, appending, level filtering, the line
// format (parsed back with the JSON parser), reserved keys, hostile field
// bytes, and 8 threads writing at once without interleaving.
#include "log.h"

#include <sys/stat.h>

#include <QtTest>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "json.h"

using charta::crdt::Result;
using charta::crdt::Status;
using charta::server::Logger;
namespace json = charta::server::json;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < all.size()) {
    const std::size_t eol = all.find('\n', pos);
    if (eol == std::string::npos) {
      lines.push_back(all.substr(pos) + "<no newline>");
      break;
    }
    lines.push_back(all.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return lines;
}

std::unique_ptr<Logger> openOrNull(const std::string& path, Logger::Level level) {
  Result<std::unique_ptr<Logger>> r = Logger::open(path, level);
  if (!r.isOk()) return nullptr;
  return std::move(r).value();
}

}  // namespace

class LogTest : public QObject {
  Q_OBJECT

 private slots:
  void parsesLevels() {
    QVERIFY(Logger::parseLevel("debug") == Logger::Level::kDebug);
    QVERIFY(Logger::parseLevel("info") == Logger::Level::kInfo);
    QVERIFY(Logger::parseLevel("warn") == Logger::Level::kWarn);
    QVERIFY(Logger::parseLevel("error") == Logger::Level::kError);
    for (const char* bad : {"", "INFO", "warning", "err", "info "}) QVERIFY2(!Logger::parseLevel(bad), bad);
    QCOMPARE(q(std::string(Logger::levelName(Logger::Level::kWarn))), QStringLiteral("warn"));
  }

  void writesOneJsonObjectPerLine() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("server.log").toStdString();
    std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kInfo);
    QVERIFY(log != nullptr);
    QVERIFY(log->minLevel() == Logger::Level::kInfo);
    const QDateTime before = QDateTime::currentDateTimeUtc();
    log->info("login", {{"user", "ann"}, {"ok", true}, {"ms", 12}});
    log->error("db.failed", {{"detail", "disk \"full\"\n"}});

    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t{2});
    const Result<json::Value> first = json::parse(lines[0]);
    QVERIFY2(first.isOk(), lines[0].c_str());
    const json::Object& o = *first.value().asObject();
    QCOMPARE(o.size(), std::size_t{6});
    const std::vector<std::string> keys = {"ts", "level", "event", "user", "ok", "ms"};
    for (std::size_t i = 0; i < keys.size(); ++i) QCOMPARE(q(o[i].first), q(keys[i]));
    QVERIFY(*first.value().find("level") == json::Value("info"));
    QVERIFY(*first.value().find("event") == json::Value("login"));
    QVERIFY(*first.value().find("ms") == json::Value(12));

    const QString ts = q(*first.value().find("ts")->asString());
    QVERIFY2(QRegularExpression(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"))
                 .match(ts)
                 .hasMatch(),
             qPrintable(ts));
    const QDateTime when = QDateTime::fromString(ts, Qt::ISODateWithMs);
    QVERIFY(when.isValid());
    QVERIFY(std::abs(when.msecsTo(before)) < 60000);

    QCOMPARE(q(lines[1].substr(lines[1].find("\"level\""))),
             QStringLiteral("\"level\":\"error\",\"event\":\"db.failed\",\"detail\":\"disk \\\"full\\\"\\u000a\"}"));
  }

  void createsTheFileWithMode0600AndAppends() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("new.log").toStdString();
    {
      std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kDebug);
      QVERIFY(log != nullptr);
      log->debug("one");
    }
    struct stat st {};
    QCOMPARE(::stat(path.c_str(), &st), 0);
    QCOMPARE(st.st_mode & 0777u, 0600u);
    {
      std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kDebug);
      QVERIFY(log != nullptr);
      log->debug("two");
    }
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t{2});
    QVERIFY(lines[0].find("\"event\":\"one\"") != std::string::npos);
    QVERIFY(lines[1].find("\"event\":\"two\"") != std::string::npos);
  }

  void openFailsWithIoError() {
    QTemporaryDir dir;
    const Result<std::unique_ptr<Logger>> r =
        Logger::open(dir.filePath("no/such/dir.log").toStdString(), Logger::Level::kInfo);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), Status::Code::kIoError);
    QVERIFY2(r.status().message().find("dir.log") != std::string::npos, r.status().message().c_str());
  }

  void emptyPathMeansStderr() {
    const Result<std::unique_ptr<Logger>> r = Logger::open("", Logger::Level::kError);
    QVERIFY(r.isOk());
    QVERIFY(r.value()->minLevel() == Logger::Level::kError);
    r.value()->debug("filtered, prints nothing");
  }

  void filtersBelowMinLevel() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("f.log").toStdString();
    std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kWarn);
    QVERIFY(log != nullptr);
    log->debug("d");
    log->info("i");
    log->warn("w");
    log->error("e");
    log->log(Logger::Level::kInfo, "i2");
    log->log(Logger::Level::kError, "e2");
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t{3});
    const std::vector<std::string> events = {"w", "e", "e2"};
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const Result<json::Value> v = json::parse(lines[i]);
      QVERIFY(v.isOk());
      QVERIFY(*v.value().find("event") == json::Value(events[i]));
    }
  }

  void reservedAndHostileFieldsStillParse() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("h.log").toStdString();
    std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kInfo);
    QVERIFY(log != nullptr);
    log->info("ev\x01",
              {{"ts", 1}, {"event", "spoof"}, {"_ts", 2}, {"agent", std::string("bad\xFF\xC0 \0 bytes", 13)}});
    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t{1});
    const Result<json::Value> v = json::parse(lines[0]);
    QVERIFY2(v.isOk(), v.status().toString().c_str());
    const json::Object& o = *v.value().asObject();
    QCOMPARE(o.size(), std::size_t{7});
    QCOMPARE(q(o[2].first), QStringLiteral("event"));
    QVERIFY(o[2].second == json::Value("ev\x01"));
    QCOMPARE(q(o[3].first), QStringLiteral("_ts"));
    QVERIFY(o[3].second == json::Value(1));
    QCOMPARE(q(o[4].first), QStringLiteral("_event"));
    QCOMPARE(q(o[5].first), QStringLiteral("__ts"));
    QVERIFY(o[5].second == json::Value(2));
    QCOMPARE(q(o[6].first), QStringLiteral("agent"));
  }

  void concurrentWritersNeverInterleave() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.log").toStdString();
    std::unique_ptr<Logger> log = openOrNull(path, Logger::Level::kDebug);
    QVERIFY(log != nullptr);
    constexpr int kThreads = 8;
    constexpr int kLines = 1000;
    // Long enough lines that unsynchronised writes would tear.
    const std::string padding(300, 'x');
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kLines; ++i) {
          log->info("tick", {{"thread", t}, {"i", i}, {"text", "\xC3\xA9 \"" + padding + "\"\n"}});
        }
      });
    }
    for (std::thread& th : threads) th.join();

    const std::vector<std::string> lines = readLines(path);
    QCOMPARE(lines.size(), std::size_t{kThreads * kLines});
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    for (const std::string& line : lines) {
      const Result<json::Value> v = json::parse(line);
      QVERIFY2(v.isOk(), (v.status().toString() + " in " + line.substr(0, 120)).c_str());
      const std::int64_t t = *v.value().find("thread")->asInt();
      const std::int64_t i = *v.value().find("i")->asInt();
      QVERIFY(seen.insert({t, i}).second);
      QVERIFY(*v.value().find("text")->asString() == "\xC3\xA9 \"" + padding + "\"\n");
    }
    QCOMPARE(seen.size(), std::size_t{kThreads * kLines});
  }
};

QTEST_APPLESS_MAIN(LogTest)
#include "log_test.moc"
