// QML TestCase flows on the real app window (Main.qml, offscreen) over a real
// encrypted replica: see tst_flows.qml. The setup makes the tablet: two
// patients, one with a high-risk penicillin allergy and a phone number two
// devices changed concurrently (an open conflict).
#include <QtQml/qqmlextensionplugin.h>

#include <QImage>
#include <QQmlContext>
#include <QQmlEngine>
#include <QTemporaryDir>
#include <QUrl>
#include <QtQuickTest>

#include "app/app_fixture.h"
#include "kiosk.h"
#include "tablet_app.h"

Q_IMPORT_QML_PLUGIN(ChartaPlugin)

using namespace charta;

namespace {

bool seed(const QString& dir) {
  if (!test::makeOfflineReplica(dir)) return false;
  platform::PassphraseVault vault(platform::PassphraseVault::Strength::kMinimumForTests);
  auto opened = sync::Replica::open((dir + "/replica.db").toStdString());
  if (!opened.isOk()) return false;
  sync::Replica& r = *opened.value();
  if (!r.unlock(vault, "nurse", test::kNursePass).isOk()) return false;
  using crdt::Collection;
  using crdt::FieldRef;
  using crdt::Value;
  namespace field = crdt::field;
  auto write = [&](const std::string& p, crdt::FieldId f, const std::string& v) {
    return r.edit(p, [&](crdt::OpFactory& fac, const crdt::ChartDocument& doc) {
                return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, Value{v});
              }).isOk();
  };
  const std::string ada = "patient-ada", amara = "patient-amara";
  bool ok = write(ada, field::kFamilyName, "Lindqvist") && write(ada, field::kGivenNames, "Ada") &&
            write(ada, field::kBirthDate, "1950-03-14") && write(ada, field::kSex, "female") &&
            write(amara, field::kFamilyName, "Okafor") && write(amara, field::kGivenNames, "Amara") &&
            write(amara, field::kBirthDate, "2019-06-01") && write(amara, field::kSex, "female");
  ok = ok && r.edit(ada, [](crdt::OpFactory& f, const crdt::ChartDocument& doc) {
                 return f.addEntry(doc, Collection::kAllergies,
                                   {{field::kDisplay, Value{std::string("Penicillin")}},
                                    {field::kCriticality, Value{std::string("high")}}});
               }).isOk();
  // The phone, written here and concurrently on another device.
  auto seen = r.chartCopy(ada, "");
  if (!ok || !seen.isOk()) return false;
  ok = write(ada, field::kPhone, "+41 79 111 11 11");
  crdt::SystemWallClock clock;
  crdt::OpFactory other(crdt::ReplicaId{0xB0B}, clock, 1);
  other.setUser("nurse2");
  sync::PullPage page;
  page.ops.push_back(crdt::encodeOp(other.writeField(
      seen.value(), FieldRef{Collection::kDemographics, {}, field::kPhone}, Value{std::string("+41 79 222 22 22")})));
  page.next = r.cursor();
  ok = ok && r.applyPulled(page).isOk();
  // A chart of another clinic, opened by break-glass: read-only here.
  crdt::OpFactory north(crdt::ReplicaId{0xC0C}, clock, 1);
  north.setUser("north-nurse");
  crdt::ChartDocument visitor("patient-visitor");
  sync::BreakGlassCopy copy;
  copy.patient = visitor.patientId();
  copy.clinic = "north";
  copy.reason = "collapsed at the school gate";
  copy.expiresAtMs = static_cast<std::int64_t>(clock.nowMs()) + 3'600'000;
  for (const auto& [f, v] : {std::pair{field::kFamilyName, "Visser"}, std::pair{field::kGivenNames, "Vera"},
                             std::pair{field::kBirthDate, "1988-02-11"}}) {
    crdt::Op op = north.writeField(visitor, FieldRef{Collection::kDemographics, {}, f}, Value{std::string(v)});
    ok = ok && visitor.apply(op).isOk();
    copy.ops.push_back(crdt::encodeOp(op));
  }
  return ok && r.storeBreakGlass(copy).isOk();
}

}  // namespace

constexpr const char* kKioskPass = "kiosk admin passphrase";

// What the flows may ask of the test's setup: kiosk mode, started the way
// main starts it, for the last flow (full screen would resize the others).
class TestControl : public QObject {
  Q_OBJECT
 public:
  TestControl(app::Kiosk& kiosk, QString dir) : m_kiosk(kiosk), m_dir(std::move(dir)) {}
  Q_INVOKABLE bool startKiosk() {
    return m_kiosk.start(m_dir, platform::PassphraseVault::Strength::kMinimumForTests).isOk();
  }
  // A 1200 x 600 PNG (red left half, blue right) in the test's folder, as a
  // file:// URL: what the platform's file dialog would hand over.
  Q_INVOKABLE QString writePhoto(const QString& name) {
    QImage image(1200, 600, QImage::Format_RGB32);
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) image.setPixel(x, y, x < 600 ? qRgb(220, 20, 20) : qRgb(20, 20, 220));
    }
    const QString path = m_dir + QStringLiteral("/") + name;
    return image.save(path, "PNG") ? QUrl::fromLocalFile(path).toString() : QString();
  }

 private:
  app::Kiosk& m_kiosk;
  QString m_dir;
};

class Setup : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::unique_ptr<app::ChartStore> m_store;
  app::Kiosk m_kiosk{nullptr};
  std::unique_ptr<TestControl> m_control;

 public slots:
  void applicationAvailable() { app::prepareApplication(); }
  void qmlEngineAvailable(QQmlEngine* engine) {
    app::prepareEngine(*engine);
    if (!m_dir.isValid() || !seed(m_dir.path())) qFatal("cannot make the test tablet");
    m_store = std::make_unique<app::ChartStore>(test::offlineStoreOptions(m_dir.path()));
    app::ChartStore::setInstance(m_store.get());
    engine->rootContext()->setContextProperty(QStringLiteral("testPassphrase"), QString(test::kNursePass));
    if (!app::Kiosk::setPassphrase(m_dir.path(), kKioskPass, platform::PassphraseVault::Strength::kMinimumForTests)
             .isOk()) {
      qFatal("cannot set the kiosk passphrase");
    }
    app::Kiosk::setInstance(&m_kiosk);
    m_control = std::make_unique<TestControl>(m_kiosk, m_dir.path());
    engine->rootContext()->setContextProperty(QStringLiteral("testControl"), m_control.get());
    engine->rootContext()->setContextProperty(QStringLiteral("kioskPassphrase"), QString(kKioskPass));
  }
  void cleanupTestCase() {
    if (m_store) m_store->waitIdle();
  }
};

QUICK_TEST_MAIN_WITH_SETUP(app_qml_test, Setup)
#include "app_qml_test.moc"
