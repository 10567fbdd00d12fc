// charta-tablet as a program: --help, a bad option (exit 2), --self-test
// (every QML file loads), and --screenshots (each main screen in both
// orientations, from a demo clinic). The screenshots are kept in the test's
// output folder, for people to look at.
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exitCode = -1;
  QString out;
  QString err;
};

Run tablet(const QStringList& args) {
  QProcess p;
  p.start(QString::fromUtf8(qgetenv("CHARTA_TABLET_BIN")), args);
  p.waitForFinished(180000);
  Run r;
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  return r;
}

}  // namespace

class TabletCliTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY2(!qgetenv("CHARTA_TABLET_BIN").isEmpty(), "CHARTA_TABLET_BIN is not set"); }

  void helpAndBadOptions() {
    Run help = tablet({"--help"});
    QCOMPARE(help.exitCode, 0);
    for (const char* option :
         {"--data", "--self-test", "--screenshots", "--auto-lock", "--ca-cert", "--kiosk", "--set-kiosk-passphrase-file"}) {
      QVERIFY2(help.out.contains(option), option);
    }
    Run badLock = tablet({"--auto-lock", "soon", "--self-test"});
    QCOMPARE(badLock.exitCode, 2);
    QVERIFY(badLock.err.contains("--auto-lock"));
    Run unknown = tablet({"--colour", "red"});
    QVERIFY(unknown.exitCode != 0);
    QVERIFY(unknown.err.contains("colour"));
  }

  // Kiosk mode needs its passphrase set first; setting it takes a file.
  void kioskModeNeedsItsPassphrase() {
    QTemporaryDir dir;
    const QString data = dir.filePath("tablet");
    Run refused = tablet({"--data", data, "--kiosk"});
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.err.contains("--set-kiosk-passphrase-file"), qPrintable(refused.err));
    Run missing = tablet({"--data", data, "--set-kiosk-passphrase-file", dir.filePath("nope")});
    QCOMPARE(missing.exitCode, 2);
    QVERIFY2(missing.err.contains("cannot read"), qPrintable(missing.err));
    QFile pass(dir.filePath("kiosk-pass"));
    QVERIFY(pass.open(QIODevice::WriteOnly));
    pass.write("short\n");
    pass.close();
    Run tooShort = tablet({"--data", data, "--set-kiosk-passphrase-file", pass.fileName()});
    QCOMPARE(tooShort.exitCode, 2);
    QVERIFY(!QFile::exists(data + "/kiosk.lock"));
    QVERIFY(pass.open(QIODevice::WriteOnly | QIODevice::Truncate));
    pass.write("front desk admin 2026\n");
    pass.close();
    Run set = tablet({"--data", data, "--set-kiosk-passphrase-file", pass.fileName()});
    QCOMPARE(set.exitCode, 0);
    QVERIFY2(set.out.contains("kiosk passphrase set"), qPrintable(set.out + set.err));
    QVERIFY(QFile::exists(data + "/kiosk.lock"));
  }

  void selfTestLoadsEveryQmlFile() {
    Run r = tablet({"--self-test"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("every QML file loaded"), qPrintable(r.out + r.err));
  }

  void screenshotsOfEveryMainScreen() {
    const QString dir = QDir::current().filePath("screenshots");
    QDir(dir).removeRecursively();
    Run r = tablet({"--screenshots", dir});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QStringList screens{"lock-screen",      "patient-list",  "chart",           "vitals-plot",
                              "medication-alert", "conflict-list", "conflict-review", "sync-error",
                              "chart-dark"};
    for (const QString& screen : screens) {
      for (const auto& [orientation, size] : {std::pair{QStringLiteral("landscape"), QSize(1280, 800)},
                                              std::pair{QStringLiteral("portrait"), QSize(800, 1280)}}) {
        const QString file = QDir(dir).filePath(screen + "-" + orientation + ".png");
        QVERIFY2(r.out.contains(file), qPrintable(file));
        QImage image(file);
        QVERIFY2(!image.isNull(), qPrintable(file));
        QCOMPARE(image.size(), size);
        // Something was drawn: more than a handful of colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height() && colours.size() < 16; y += 7) {
          for (int x = 0; x < image.width() && colours.size() < 16; x += 7) colours.insert(image.pixel(x, y));
        }
        QVERIFY2(colours.size() >= 8, qPrintable(file));
      }
    }
  }
};

QTEST_GUILESS_MAIN(TabletCliTest)
#include "tablet_cli_test.moc"
