#include "tablet_app.h"

#include <QDir>
#include <QDirIterator>
#include <QEventLoop>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QImage>
#include <QQmlApplicationEngine>
#include <QQmlComponent>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTemporaryDir>
#include <QTimer>

#include "attachment_images.h"
#include "chart_store.h"
#include "charta/crdt/op_codec.h"
#include "charta/platform/passphrase_vault.h"
#include "demo_charts.h"

namespace charta::app {

void prepareApplication() {
  // One style everywhere (the app draws its own look on top of Basic), so
  // screenshots match across machines.
  QQuickStyle::setStyle(QStringLiteral("Basic"));
}

void prepareEngine(QQmlEngine& engine) {
  engine.addImportPath(QStringLiteral("qrc:/"));
  // The engine owns the provider.
  engine.addImageProvider(QStringLiteral("attachment"), new AttachmentImageProvider);
}

QStringList selfTest(QQmlEngine& engine) {
  QStringList errors;
  QStringList files;
  QDirIterator it(QStringLiteral(":/Charta"), {QStringLiteral("*.qml")}, QDir::Files);
  while (it.hasNext()) files << it.next();
  files.sort();
  if (files.isEmpty()) errors << QStringLiteral("no QML files found in the Charta module");
  for (const QString& file : files) {
    QQmlComponent component(&engine, QUrl(QStringLiteral("qrc") + file), QQmlComponent::PreferSynchronous);
    if (component.isError()) {
      for (const QQmlError& e : component.errors()) errors << e.toString();
    }
  }
  return errors;
}

namespace {

// Runs the event loop until the signal fires (or the timeout passes).
template <typename Sender, typename Signal>
bool waitFor(Sender* sender, Signal signal, int timeoutMs) {
  QEventLoop loop;
  bool fired = false;
  QObject::connect(sender, signal, &loop, [&] {
    fired = true;
    loop.quit();
  });
  QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
  loop.exec();
  return fired;
}

void settle(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  loop.exec();
}

// A second device's concurrent edit of a patient's phone and of an allergy's
// severity, so the demo has real conflicts to review.
crdt::Status addDemoConflicts(sync::Replica& replica, const std::string& patient) {
  auto docResult = replica.document(patient);
  if (!docResult.isOk()) return docResult.status();
  const crdt::ChartDocument base = *docResult.value();
  crdt::SystemWallClock clock;
  crdt::OpFactory other(crdt::ReplicaId{0x5EC0D}, clock);
  other.setUser("nurse2");
  std::vector<crdt::Op> remote;
  remote.push_back(other.writeField(base, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                                    crdt::Value{std::string("+41 79 555 01 02")}));
  auto mine = replica.edit(patient, [](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
    return f.writeField(doc, crdt::FieldRef{crdt::Collection::kDemographics, {}, crdt::field::kPhone},
                        crdt::Value{std::string("+41 79 555 99 88")});
  });
  if (!mine.isOk()) return mine.status();
  sync::PullPage page;
  for (const crdt::Op& op : remote) page.ops.push_back(crdt::encodeOp(op));
  page.next = replica.cursor();
  auto applied = replica.applyPulled(page);
  return applied.status();
}

}  // namespace

QStringList takeScreenshots(const QString& dir, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = why;
    return QStringList();
  };
  if (!QDir().mkpath(dir)) return fail(QStringLiteral("cannot create %1").arg(dir));
  QTemporaryDir data;
  if (!data.isValid()) return fail(QStringLiteral("cannot create a temporary folder"));

  // A demo tablet of a demo clinic, with no server reachable (so the sync
  // error screen is real too).
  {
    platform::PassphraseVault vault(platform::PassphraseVault::Strength::kMinimumForTests);
    sync::DeviceIdentity identity{"http://127.0.0.1:9", "demo-tablet", crdt::ReplicaId{0xDE70}, "demo", ""};
    sync::UserInfo nurse{"nurse", "Demo nurse", "", 0};
    auto replica = sync::Replica::create(QDir(data.path()).filePath(QStringLiteral("replica.db")).toStdString(),
                                         identity, "demo-device-secret-0123456789abcdef", vault, nurse,
                                         "demo-nurse-pass");
    if (!replica.isOk()) return fail(QString::fromStdString(replica.status().message()));
    sync::DemoOptions demo;
    demo.patients = 24;
    demo.years = 5;
    auto patients = sync::DemoCharts::create(*replica.value(), demo);
    if (!patients.isOk()) return fail(QString::fromStdString(patients.status().message()));
    if (patients.value().empty()) return fail(QStringLiteral("the demo clinic has no patients"));
    crdt::Status st = addDemoConflicts(*replica.value(), patients.value().front());
    if (!st.isOk()) return fail(QString::fromStdString(st.message()));
  }

  StoreOptions options;
  options.dataDir = data.path();
  options.kdf = StoreOptions::Kdf::kMinimumForTests;
  options.autoLockMs = 0;
  options.syncIntervalMs = 0;
  options.syncAfterEditMs = -1;
  options.maxSyncAttempts = 1;
  ChartStore store(options);
  ChartStore::setInstance(&store);

  QQmlApplicationEngine engine;
  prepareEngine(engine);
  engine.load(QUrl(QStringLiteral("qrc:/Charta/Main.qml")));
  if (engine.rootObjects().isEmpty()) return fail(QStringLiteral("Main.qml did not load"));
  auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().constFirst());
  if (!window) return fail(QStringLiteral("Main.qml is not a window"));

  QStringList written;
  QString shotError;
  auto shoot = [&](const QString& name) {
    for (const auto& [orientation, w, h] : {std::tuple{QStringLiteral("landscape"), 1280, 800},
                                            std::tuple{QStringLiteral("portrait"), 800, 1280}}) {
      window->resize(w, h);
      settle(150);
      const QImage image = window->grabWindow();
      const QString file = QDir(dir).filePath(name + QLatin1Char('-') + orientation + QStringLiteral(".png"));
      if (image.isNull() || !image.save(file)) {
        shotError = QStringLiteral("cannot render %1").arg(file);
        return;
      }
      written << file;
    }
  };
  auto show = [&](const QString& screen, const QString& patient = {}) {
    QMetaObject::invokeMethod(window, "showScreen", Q_ARG(QVariant, screen), Q_ARG(QVariant, patient));
    settle(100);
  };

  window->show();
  shoot(QStringLiteral("lock-screen"));
  store.unlock(QStringLiteral("nurse"), QStringLiteral("demo-nurse-pass"));
  if (!waitFor(&store, &ChartStore::unlockFinished, 30'000) || !store.unlocked()) {
    return fail(QStringLiteral("the demo tablet did not unlock"));
  }
  // The server is away: the status bar shows the error in plain words.
  store.syncNow();
  waitFor(&store, &ChartStore::syncFinished, 30'000);
  shoot(QStringLiteral("patient-list"));

  // The patient with the most history makes the best chart and plot.
  QString richest, conflicted;
  std::uint64_t most = 0;
  QString withPenicillin;
  for (const auto& s : store.summaries()) {
    if (conflicted.isEmpty() && s.openConflicts > 0) conflicted = QString::fromStdString(s.patient);
    if (s.opCount > most) {
      most = s.opCount;
      richest = QString::fromStdString(s.patient);
    }
    for (const auto& a : s.allergies) {
      if (withPenicillin.isEmpty() && QString::fromStdString(a).contains(QStringLiteral("enicillin"))) {
        withPenicillin = QString::fromStdString(s.patient);
      }
    }
  }
  show(QStringLiteral("chart"), richest);
  shoot(QStringLiteral("chart"));
  show(QStringLiteral("vitals"), richest);
  shoot(QStringLiteral("vitals-plot"));
  show(QStringLiteral("medication-alert"), withPenicillin.isEmpty() ? richest : withPenicillin);
  shoot(QStringLiteral("medication-alert"));
  show(QStringLiteral("conflicts"));
  shoot(QStringLiteral("conflict-list"));
  if (conflicted.isEmpty()) return fail(QStringLiteral("the demo clinic has no conflict to review"));
  show(QStringLiteral("conflict-review"), conflicted);
  shoot(QStringLiteral("conflict-review"));
  show(QStringLiteral("sync-error"));
  shoot(QStringLiteral("sync-error"));
  // The dark theme (for night visits), on the chart.
  QMetaObject::invokeMethod(window, "setDarkTheme", Q_ARG(QVariant, true));
  show(QStringLiteral("chart"), richest);
  shoot(QStringLiteral("chart-dark"));
  QMetaObject::invokeMethod(window, "setDarkTheme", Q_ARG(QVariant, false));
  if (!shotError.isEmpty()) return fail(shotError);
  ChartStore::setInstance(nullptr);
  return written;
}

}  // namespace charta::app
