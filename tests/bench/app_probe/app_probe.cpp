// charta_app_probe: one cold start of the tablet app, timed (charta-bench app).
//
//   charta_app_probe --data DIR --user U --passphrase P --patient ID [--patients N] [--open show|tap]
//
// Does what charta-tablet does at start (prepareApplication, the translator,
// a ChartStore on DIR, Main.qml), with no server: sync only on demand, never
// after an edit, no auto-lock, one attempt per request (the replica's server
// URL must point at a closed port so the sync unlock starts fails at once).
// Times, in ms on the steady clock from main's first line:
//   lock_screen_ms  the lock screen's first frame swapped; unlock starts then
//   unlock_ms       unlockFinished(ok) (Argon2id and opening the keys)
//   list_ms         the patient list's model holds every patient (count ==
//                   total == N) and the frame after that was swapped
//   chart_call_ms   when showScreen("chart", ID) was called (--open tap: the
//                   window's openChart(ID, "summary"), what tapping a row does)
//   chart_ms        the chart page's ChartController is loaded and the frame
//                   after that was swapped
// plus before_main_ms (process start to main, from /proc/self/stat: 1 clock
// tick resolution), main_steady_ns (main's first line on CLOCK_MONOTONIC, for
// a parent that timed the spawn), and peak and current RSS.
//
// Prints one JSON line on stdout and exits 0; on any failure (or after 60 s)
// prints the reason on stderr and exits 1; 2 for usage errors.
#include <QtQml/qqmlextensionplugin.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <QGuiApplication>
#include <QLocale>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTimer>
#include <QTranslator>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "chart_store.h"
#include "patient_list_model.h"
#include "tablet_app.h"

Q_IMPORT_QML_PLUGIN(ChartaPlugin)

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 60'000;

struct Args {
  QString data;
  QString user;
  QString passphrase;
  QString patient;
  int patients = -1;       // -1: as many as the replica holds
  bool openAsTap = false;  // --open tap: root.openChart() instead of showScreen()
};

// Milliseconds between process start (the kernel's starttime) and now, or
// -1 when /proc cannot tell.
double msSinceProcessStart() {
  std::ifstream in("/proc/self/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // Fields after the command name start at 3 (state); starttime is 22.
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  unsigned long long startTicks = 0;
  if (!(fields >> startTicks)) return -1;
  const long ticks = sysconf(_SC_CLK_TCK);
  timespec boot{};
  if (ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return -1;
  const double nowMs = static_cast<double>(boot.tv_sec) * 1000 + static_cast<double>(boot.tv_nsec) / 1e6;
  return nowMs - static_cast<double>(startTicks) * 1000 / static_cast<double>(ticks);
}

long rssKiB(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

// The first object named `name` under `root`, through both QObject children
// and visual children (StackView's pages are reparented visually).
QObject* findNamed(QObject* root, const QString& name) {
  if (root == nullptr) return nullptr;
  if (root->objectName() == name) return root;
  for (QObject* child : root->children()) {
    if (QObject* found = findNamed(child, name)) return found;
  }
  if (auto* item = qobject_cast<QQuickItem*>(root)) {
    for (QQuickItem* child : item->childItems()) {
      if (QObject* found = findNamed(child, name)) return found;
    }
  }
  return nullptr;
}

// The run's state machine, driven by the window's frames and the store's
// signals.
class Probe : public QObject {
  Q_OBJECT

 public:
  Probe(const Args& args, SteadyClock::time_point start, charta::app::ChartStore& store, QQuickWindow& window)
      : m_args(args), m_start(start), m_store(store), m_window(window) {
    connect(&m_window, &QQuickWindow::frameSwapped, this, &Probe::onFrameSwapped);
    connect(&m_window, &QQuickWindow::afterAnimating, this, &Probe::onAfterAnimating);
    connect(&m_store, &charta::app::ChartStore::unlockFinished, this, &Probe::onUnlockFinished);
    QTimer::singleShot(kTimeoutMs, this,
                       [this] { fail("timed out in phase " + std::to_string(static_cast<int>(m_phase))); });
    // Offscreen, the window may have rendered its first frame inside
    // engine.load(), before this connection: ask for one more (the lock
    // screen's time then includes one extra frame).
    m_window.update();
  }

 private:
  enum class Phase { kLockScreen, kUnlocking, kList, kChart, kDone };

  double now() const { return std::chrono::duration<double, std::milli>(SteadyClock::now() - m_start).count(); }

  void fail(const std::string& why) {
    if (m_phase == Phase::kDone) return;
    m_phase = Phase::kDone;
    std::fprintf(stderr, "charta_app_probe: %s\n", why.c_str());
    QCoreApplication::exit(1);
  }

  // The next frame that starts after this call shows the state as it is now.
  void awaitFrame() {
    m_waitingFrame = true;
    m_frameStarted = false;
    m_window.update();
  }

  void onAfterAnimating() {
    if (m_waitingFrame) m_frameStarted = true;
  }

  void onFrameSwapped() {
    if (m_phase == Phase::kLockScreen) {
      m_lockScreenMs = now();
      m_phase = Phase::kUnlocking;
      m_store.unlock(m_args.user, m_args.passphrase);
      return;
    }
    if (!m_waitingFrame || !m_frameStarted) return;
    m_waitingFrame = false;
    if (m_phase == Phase::kList) {
      m_listMs = now();
      m_rssListKiB = rssKiB("VmRSS");
      openChart();
    } else if (m_phase == Phase::kChart) {
      m_chartMs = now();
      finish();
    }
  }

  void onUnlockFinished(bool ok, const QString& message) {
    if (m_phase != Phase::kUnlocking) return;
    if (!ok) {
      fail("unlock failed: " + message.toStdString());
      return;
    }
    m_unlockMs = now();
    m_phase = Phase::kList;
    checkList();
  }

  // The list page is pushed on stateChanged (before unlockFinished); its
  // model fills itself from the summaries.
  void checkList() {
    if (m_phase != Phase::kList || m_waitingFrame) return;
    auto* model =
        qobject_cast<charta::app::PatientListModel*>(findNamed(m_window.contentItem(), QStringLiteral("patientModel")));
    if (model == nullptr) {
      QTimer::singleShot(1, this, &Probe::checkList);
      return;
    }
    if (model != m_model) {
      m_model = model;
      connect(model, &charta::app::PatientListModel::countChanged, this, &Probe::checkList);
    }
    const int expected =
        m_args.patients >= 0 ? m_args.patients : static_cast<int>(m_store.replica()->patients().size());
    if (model->count() != expected || model->total() != expected) return;
    m_listed = model->count();
    QObject* view = findNamed(m_window.contentItem(), QStringLiteral("patientList"));
    m_viewCount = view != nullptr ? view->property("count").toInt() : -1;
    awaitFrame();
  }

  void openChart() {
    m_phase = Phase::kChart;
    m_chartCallMs = now();
    if (m_args.openAsTap) {
      // What tapping a row does (PatientListPage's openChart), for comparison.
      QMetaObject::invokeMethod(&m_window, "openChart", Q_ARG(QVariant, m_args.patient),
                                Q_ARG(QVariant, QStringLiteral("summary")));
    } else {
      QMetaObject::invokeMethod(&m_window, "showScreen", Q_ARG(QVariant, QStringLiteral("chart")),
                                Q_ARG(QVariant, m_args.patient));
    }
    m_chartReturnMs = now();
    QObject* controller = findNamed(m_window.contentItem(), QStringLiteral("chartController"));
    if (controller == nullptr) {
      fail("showScreen(\"chart\") made no chartController");
      return;
    }
    m_controller = controller;
    connect(controller, SIGNAL(chartChanged()), this, SLOT(onChartChanged()));
    onChartChanged();
  }

 private slots:
  void onChartChanged() {
    if (m_phase != Phase::kChart || m_waitingFrame) return;
    if (!m_controller->property("loaded").toBool()) {
      const QString error = m_controller->property("loadError").toString();
      if (!error.isEmpty()) fail("the chart did not load: " + error.toStdString());
      return;
    }
    awaitFrame();
  }

 private:
  void finish() {
    m_phase = Phase::kDone;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "{\"ok\": true, \"patients_listed\": %d, \"list_view_count\": %d, \"chart_loaded\": true, "
        "\"main_steady_ns\": %lld, \"before_main_ms\": %.1f, \"lock_screen_ms\": %.2f, \"unlock_ms\": %.2f, "
        "\"list_ms\": %.2f, \"chart_call_ms\": %.2f, \"chart_return_ms\": %.2f, \"chart_ms\": %.2f, "
        "\"peak_rss_kib\": %ld, \"rss_list_kib\": %ld, \"rss_chart_kib\": %ld, \"render_loop\": \"%s\"}\n",
        m_listed, m_viewCount,
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(m_start.time_since_epoch()).count()),
        m_beforeMainMs, m_lockScreenMs, m_unlockMs, m_listMs, m_chartCallMs, m_chartReturnMs, m_chartMs, ru.ru_maxrss,
        m_rssListKiB, rssKiB("VmRSS"),
        qEnvironmentVariable("QSG_RENDER_LOOP", QStringLiteral("default")).toUtf8().constData());
    std::fflush(stdout);
    QCoreApplication::exit(0);
  }

 public:
  double m_beforeMainMs = -1;

 private:
  Args m_args;
  SteadyClock::time_point m_start;
  charta::app::ChartStore& m_store;
  QQuickWindow& m_window;
  Phase m_phase = Phase::kLockScreen;
  bool m_waitingFrame = false;
  bool m_frameStarted = false;
  charta::app::PatientListModel* m_model = nullptr;
  QObject* m_controller = nullptr;
  int m_listed = 0;
  int m_viewCount = -1;
  double m_lockScreenMs = 0;
  double m_unlockMs = 0;
  double m_listMs = 0;
  double m_chartCallMs = 0;
  double m_chartReturnMs = 0;
  double m_chartMs = 0;
  long m_rssListKiB = -1;
};

int usage() {
  std::fprintf(stderr,
               "usage: charta_app_probe --data DIR --user U --passphrase P --patient ID [--patients N]\n"
               "                        [--open show|tap]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const SteadyClock::time_point start = SteadyClock::now();
  const double beforeMainMs = msSinceProcessStart();

  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const QString v = QString::fromLocal8Bit(argv[i + 1]);
    if (a == "--data") {
      args.data = v;
    } else if (a == "--user") {
      args.user = v;
    } else if (a == "--passphrase") {
      args.passphrase = v;
    } else if (a == "--patient") {
      args.patient = v;
    } else if (a == "--patients") {
      args.patients = v.toInt();
    } else if (a == "--open" && (v == QLatin1String("tap") || v == QLatin1String("show"))) {
      args.openAsTap = v == QLatin1String("tap");
    } else {
      return usage();
    }
  }
  if (argc % 2 != 1 || args.data.isEmpty() || args.user.isEmpty() || args.patient.isEmpty()) return usage();

  charta::app::prepareApplication();
  int qtArgc = 1;
  QGuiApplication app(qtArgc, argv);
  QGuiApplication::setApplicationName(QStringLiteral("charta-tablet"));
  QGuiApplication::setOrganizationName(QStringLiteral("Charta"));
  QTranslator translator;
  if (translator.load(QLocale(), QStringLiteral("charta"), QStringLiteral("_"), QStringLiteral(":/i18n"))) {
    QGuiApplication::installTranslator(&translator);
  }

  charta::app::StoreOptions options;
  options.dataDir = args.data;
  options.autoLockMs = 0;
  options.syncIntervalMs = 0;
  options.syncAfterEditMs = -1;
  options.maxSyncAttempts = 1;
  charta::app::ChartStore store(options);
  charta::app::ChartStore::setInstance(&store);
  if (!store.enrolled()) {
    std::fprintf(stderr, "charta_app_probe: no replica in %s: %s\n", qPrintable(args.data),
                 qPrintable(store.lastError()));
    return 1;
  }

  QQmlApplicationEngine engine;
  // The module's qmldir is built in at qrc:/Charta/qmldir. charta-tablet
  // finds the one on disk next to its executable in the build tree instead;
  // without either, the Theme singleton never resolves and loading Main.qml
  // spins forever (the probe lives in another folder).
  engine.addImportPath(QStringLiteral("qrc:/"));
  engine.load(QUrl(QStringLiteral("qrc:/Charta/Main.qml")));
  if (engine.rootObjects().isEmpty()) {
    std::fprintf(stderr, "charta_app_probe: Main.qml did not load\n");
    return 1;
  }
  auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().constFirst());
  if (window == nullptr) {
    std::fprintf(stderr, "charta_app_probe: Main.qml is not a window\n");
    return 1;
  }
  Probe probe(args, start, store, *window);
  probe.m_beforeMainMs = beforeMainMs;
  const int rc = QGuiApplication::exec();
  charta::app::ChartStore::setInstance(nullptr);
  return rc;
}

#include "app_probe.moc"
