#include "kiosk.h"

#include <QDir>
#include <QFile>
#include <QJSEngine>
#include <QSaveFile>

namespace charta::app {
namespace {

Kiosk* g_instance = nullptr;
// The user id the lock's key is wrapped for (the blob binds it).
constexpr const char* kKioskUser = "kiosk";

}  // namespace

crdt::Status Kiosk::start(const QString& dataDir, Strength strength) {
  if (!configured(dataDir)) {
    return crdt::Status::notFound("no kiosk passphrase is set for " + dataDir.toStdString());
  }
  m_dataDir = dataDir;
  m_strength = strength;
  m_released = false;
  if (!m_active) {
    m_active = true;
    emit activeChanged();
  }
  return crdt::Status::ok();
}

void Kiosk::setInstance(Kiosk* kiosk) { g_instance = kiosk; }

Kiosk* Kiosk::create(QQmlEngine*, QJSEngine* js) {
  static Kiosk inactive(nullptr);
  Kiosk* k = g_instance ? g_instance : &inactive;
  // Owned by main (or the static above), not by the QML engine.
  QJSEngine::setObjectOwnership(k, QJSEngine::CppOwnership);
  if (js && k->thread() != js->thread()) return nullptr;
  return k;
}

QString Kiosk::lockFile(const QString& dataDir) { return QDir(dataDir).filePath(QStringLiteral("kiosk.lock")); }

bool Kiosk::configured(const QString& dataDir) { return QFile::exists(lockFile(dataDir)); }

crdt::Status Kiosk::setPassphrase(const QString& dataDir, const std::string& passphrase, Strength strength) {
  if (!QDir().mkpath(dataDir)) return crdt::Status::ioError("cannot create " + dataDir.toStdString());
  platform::PassphraseVault vault(strength);
  auto blob = vault.wrap(kKioskUser, passphrase, sync::SecretKey::random());
  if (!blob.isOk()) return blob.status();
  QSaveFile file(lockFile(dataDir));
  if (!file.open(QIODevice::WriteOnly)) {
    return crdt::Status::ioError("cannot write " + lockFile(dataDir).toStdString() + ": " +
                                 file.errorString().toStdString());
  }
  file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
  const std::string& bytes = blob.value();
  if (file.write(bytes.data(), static_cast<qint64>(bytes.size())) != static_cast<qint64>(bytes.size()) ||
      !file.commit()) {
    return crdt::Status::ioError("cannot write " + lockFile(dataDir).toStdString() + ": " +
                                 file.errorString().toStdString());
  }
  return crdt::Status::ok();
}

bool Kiosk::release(const QString& passphrase) {
  if (!m_active || m_released) return true;
  QFile file(lockFile(m_dataDir));
  if (!file.open(QIODevice::ReadOnly)) {
    setError(tr("The kiosk lock cannot be read (%1): ask the clinic's administrator.").arg(file.errorString()));
    return false;
  }
  const QByteArray blob = file.readAll();
  platform::PassphraseVault vault(m_strength);
  auto key = vault.unwrap(kKioskUser, passphrase.toStdString(),
                          std::string_view(blob.constData(), static_cast<std::size_t>(blob.size())));
  if (!key.isOk()) {
    setError(key.status().code() == crdt::Status::Code::kRejected
                 ? tr("That is not the kiosk passphrase.")
                 : tr("The kiosk lock is damaged (%1): ask the clinic's administrator.")
                       .arg(QString::fromStdString(key.status().message())));
    return false;
  }
  setError({});
  m_released = true;
  emit releasedChanged();
  return true;
}

void Kiosk::setError(const QString& error) {
  if (m_error == error) return;
  m_error = error;
  emit errorChanged();
}

}  // namespace charta::app
