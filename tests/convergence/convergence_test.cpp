// The convergence suite: thousands of seeded histories of replicas charting
// offline over a bad network, each checked for convergence, lost ops,
// rejections and silent overwrites (see sim/history_checks.h and README.md).
#include <QtTest>

#include <chrono>
#include <string>
#include <vector>

#include "sim/regression_seeds.h"
#include "sim/report.h"
#include "sim/run_history.h"
#include "test_env.h"

namespace cv = charta::convergence;

class ConvergenceTest : public QObject {
  Q_OBJECT

 private slots:
  void histories_data();
  void histories();
  void regressionSeeds();
  void cleanupTestCase();

 private:
  struct Run {
    std::uint64_t failed = 0;
    std::string seeds;    // the failing seeds (the first 50)
    std::string reports;  // of the first failures (all of a replayed seed)
  };
  // Runs seeds [first, first + count).
  Run runSeeds(std::uint64_t first, std::uint64_t count, bool dumpOps);

  cv::Counters m_total;
  std::uint64_t m_failedHistories = 0;
  std::chrono::steady_clock::duration m_elapsed{};
};

// The normal suite: 10,000 histories, in chunks so that progress shows.
static constexpr std::uint64_t kDefaultHistories = 10000;
static constexpr std::uint64_t kChunks = 10;

ConvergenceTest::Run ConvergenceTest::runSeeds(std::uint64_t first, std::uint64_t count, bool dumpOps) {
  Run run;
  std::size_t shown = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    cv::HistoryOutcome out = cv::runHistory(seed, m_total, dumpOps);
    if (!out.ok && ++run.failed <= 50) run.seeds += (run.seeds.empty() ? "" : ", ") + std::to_string(seed);
    if ((!out.ok || dumpOps) && shown++ < 5) run.reports += out.report;
  }
  m_failedHistories += run.failed;
  m_elapsed += std::chrono::steady_clock::now() - start;
  return run;
}

void ConvergenceTest::histories_data() {
  QTest::addColumn<quint64>("first");
  QTest::addColumn<quint64>("count");
  const cv::SeedRange range = cv::seedRange(kDefaultHistories);
  const std::uint64_t chunk = range.replay ? 1 : std::max<std::uint64_t>(1, (range.count + kChunks - 1) / kChunks);
  for (std::uint64_t first = range.first; first < range.first + range.count; first += chunk) {
    const std::uint64_t count = std::min(chunk, range.first + range.count - first);
    const std::string name = "seeds " + std::to_string(first) + "-" + std::to_string(first + count - 1);
    QTest::newRow(name.c_str()) << quint64{first} << quint64{count};
  }
}

void ConvergenceTest::histories() {
  QFETCH(quint64, first);
  QFETCH(quint64, count);
  const bool replay = cv::seedRange(kDefaultHistories).replay;
  const Run run = runSeeds(first, count, replay);
  if (replay) qInfo().noquote() << QString::fromStdString(run.reports);
  const std::string message = std::to_string(run.failed) + " of " + std::to_string(count) + " histories failed (seeds " +
                              run.seeds + "):\n" + run.reports;
  QVERIFY2(run.failed == 0, message.c_str());
}

void ConvergenceTest::regressionSeeds() {
  if (cv::seedRange(kDefaultHistories).replay) QSKIP("replaying one seed");
  std::string message;
  std::size_t failed = 0;
  for (const cv::RegressionSeed& r : cv::regressionSeeds()) {
    const Run run = runSeeds(r.seed, 1, false);
    if (run.failed == 0) continue;
    ++failed;
    message += "regression seed " + std::to_string(r.seed) + " (" + std::string(r.found) + "):\n" + run.reports;
  }
  QVERIFY2(failed == 0, (std::to_string(failed) + " regression seeds failed:\n" + message).c_str());
}

void ConvergenceTest::cleanupTestCase() {
  const double seconds = std::chrono::duration<double>(m_elapsed).count();
  qInfo().noquote() << QString::fromStdString("convergence: " + m_total.summary() + " failedHistories=" +
                                              std::to_string(m_failedHistories) + " seconds=" +
                                              std::to_string(seconds));
  QVERIFY2(m_total.silentOverwrites == 0,
           ("silent overwrites across the suite: " + std::to_string(m_total.silentOverwrites)).c_str());
}

QTEST_APPLESS_MAIN(ConvergenceTest)
#include "convergence_test.moc"
