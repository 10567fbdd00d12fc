// charta-tablet: the tablet app (see app/src/tablet_app.h).
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QStandardPaths>
#include <QTranslator>
#include <QtQml/qqmlextensionplugin.h>

#include <cstdio>

#include "chart_store.h"
#include "kiosk.h"
#include "tablet_app.h"

Q_IMPORT_QML_PLUGIN(ChartaPlugin)

int main(int argc, char** argv) {
  charta::app::prepareApplication();
  QGuiApplication app(argc, argv);
  QGuiApplication::setApplicationName(QStringLiteral("charta-tablet"));
  QGuiApplication::setOrganizationName(QStringLiteral("Charta"));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("Charta tablet: offline-first clinical charting."));
  cli.addHelpOption();
  const QCommandLineOption dataOpt(QStringLiteral("data"), QStringLiteral("The tablet's data folder (replica.db)."),
                                   QStringLiteral("DIR"));
  const QCommandLineOption caOpt(QStringLiteral("ca-cert"), QStringLiteral("PEM file trusted for https."),
                                 QStringLiteral("FILE"));
  const QCommandLineOption serverOpt(QStringLiteral("server"),
                                     QStringLiteral("Server address offered on the enrolment screen."),
                                     QStringLiteral("URL"));
  const QCommandLineOption lockOpt(QStringLiteral("auto-lock"), QStringLiteral("Lock after this many idle seconds."),
                                   QStringLiteral("SECONDS"), QStringLiteral("300"));
  const QCommandLineOption selfTestOpt(QStringLiteral("self-test"),
                                       QStringLiteral("Load every QML file, print what failed, exit 0 or 1."));
  const QCommandLineOption shotsOpt(QStringLiteral("screenshots"),
                                    QStringLiteral("Render each main screen in both orientations to DIR."),
                                    QStringLiteral("DIR"));
  const QCommandLineOption kioskOpt(
      QStringLiteral("kiosk"),
      QStringLiteral("Kiosk mode for a shared clinic tablet: full screen, no way out without the kiosk passphrase."));
  const QCommandLineOption kioskPassOpt(
      QStringLiteral("set-kiosk-passphrase-file"),
      QStringLiteral("Set the kiosk passphrase (first line of FILE) for the data folder, then exit."),
      QStringLiteral("FILE"));
  cli.addOptions({dataOpt, caOpt, serverOpt, lockOpt, selfTestOpt, shotsOpt, kioskOpt, kioskPassOpt});
  cli.process(app);

  // The catalogue of the user's language, else English (the only one shipped
  // so far; it also holds the English plural forms).
  QTranslator translator;
  if (translator.load(QLocale(), QStringLiteral("charta"), QStringLiteral("_"), QStringLiteral(":/i18n")) ||
      translator.load(QStringLiteral(":/i18n/charta_en.qm"))) {
    QGuiApplication::installTranslator(&translator);
  }

  if (cli.isSet(shotsOpt)) {
    QString error;
    const QStringList files = charta::app::takeScreenshots(cli.value(shotsOpt), &error);
    if (files.isEmpty()) {
      std::fprintf(stderr, "charta-tablet: screenshots failed: %s\n", qPrintable(error));
      return 1;
    }
    for (const QString& f : files) std::printf("%s\n", qPrintable(f));
    return 0;
  }

  bool lockOk = false;
  const int lockSeconds = cli.value(lockOpt).toInt(&lockOk);
  if (!lockOk || lockSeconds < 0) {
    std::fprintf(stderr, "charta-tablet: --auto-lock takes a number of seconds\n");
    return 2;
  }
  charta::app::StoreOptions options;
  options.dataDir = cli.isSet(dataOpt)
                        ? QDir(cli.value(dataOpt)).absolutePath()
                        : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  if (cli.isSet(kioskPassOpt)) {
    QFile file(cli.value(kioskPassOpt));
    if (!file.open(QIODevice::ReadOnly)) {
      std::fprintf(stderr, "charta-tablet: cannot read %s: %s\n", qPrintable(file.fileName()),
                   qPrintable(file.errorString()));
      return 2;
    }
    const std::string passphrase = QString::fromUtf8(file.readLine()).trimmed().toStdString();
    const auto set = charta::app::Kiosk::setPassphrase(options.dataDir, passphrase,
                                                       charta::app::Kiosk::Strength::kModerate);
    if (!set.isOk()) {
      std::fprintf(stderr, "charta-tablet: kiosk passphrase not set: %s\n", set.message().c_str());
      return 2;
    }
    std::printf("charta-tablet: kiosk passphrase set for %s\n", qPrintable(options.dataDir));
    return 0;
  }
  charta::app::Kiosk kiosk(nullptr);
  if (cli.isSet(kioskOpt)) {
    if (!kiosk.start(options.dataDir, charta::app::Kiosk::Strength::kModerate).isOk()) {
      std::fprintf(stderr,
                   "charta-tablet: --kiosk needs a kiosk passphrase first: charta-tablet --data %s "
                   "--set-kiosk-passphrase-file FILE\n",
                   qPrintable(options.dataDir));
      return 2;
    }
  }
  charta::app::Kiosk::setInstance(&kiosk);
  options.caCertFile = cli.value(caOpt);
  options.autoLockMs = lockSeconds * 1000;
  if (cli.isSet(selfTestOpt)) options.dataDir = QDir::temp().filePath(QStringLiteral("charta-tablet-self-test"));
  charta::app::ChartStore store(options);
  charta::app::ChartStore::setInstance(&store);

  QQmlApplicationEngine engine;
  charta::app::prepareEngine(engine);
  if (cli.isSet(selfTestOpt)) {
    const QStringList errors = charta::app::selfTest(engine);
    for (const QString& e : errors) std::fprintf(stderr, "%s\n", qPrintable(e));
    std::printf("charta-tablet self-test: %s\n", errors.isEmpty() ? "every QML file loaded" : "FAILED");
    return errors.isEmpty() ? 0 : 1;
  }
  engine.setInitialProperties({{QStringLiteral("defaultServer"), cli.value(serverOpt)}});
  engine.load(QUrl(QStringLiteral("qrc:/Charta/Main.qml")));
  if (engine.rootObjects().isEmpty()) return 1;
  return QGuiApplication::exec();
}
