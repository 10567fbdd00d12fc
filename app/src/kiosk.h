// Kiosk mode for a shared clinic tablet: the window fills the screen and
// does not close (neither its close button nor a shortcut) until someone
// gives the kiosk passphrase, which a clinic admin sets beforehand with
// `charta-tablet --data DIR --set-kiosk-passphrase-file FILE`.
//
// The passphrase is never stored: <data>/kiosk.lock holds a random key
// wrapped under it by the PassphraseVault (Argon2id, parameters in the
// blob), so checking a passphrase is unwrapping that key. Wrong passphrases
// slow down: each one costs an Argon2id derivation.
//
// QML: the singleton Kiosk (active, released, release(passphrase)). main sets
// the instance; without one (self-test, screenshots) an inactive one serves.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

#include "charta/crdt/status.h"
#include "charta/platform/passphrase_vault.h"

class QQmlEngine;
class QJSEngine;

namespace charta::app {

class Kiosk : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_SINGLETON
  Q_PROPERTY(bool active READ active NOTIFY activeChanged)
  Q_PROPERTY(bool released READ released NOTIFY releasedChanged)
  Q_PROPERTY(QString error READ error NOTIFY errorChanged)

 public:
  using Strength = platform::PassphraseVault::Strength;

  // Inactive until start(): the window behaves as usual. (No default
  // constructor: QML would make its own instance instead of calling create().)
  explicit Kiosk(QObject* parent) : QObject(parent) {}
  // Kiosk mode from now on, over <dataDir>/kiosk.lock. kNotFound (and
  // still inactive) when no kiosk passphrase was set for dataDir.
  crdt::Status start(const QString& dataDir, Strength strength);

  static void setInstance(Kiosk* kiosk);
  static Kiosk* create(QQmlEngine* qml, QJSEngine* js);

  // Writes <dataDir>/kiosk.lock for this passphrase (replacing an older one).
  // kInvalidArgument for a passphrase shorter than the vault's minimum.
  static crdt::Status setPassphrase(const QString& dataDir, const std::string& passphrase, Strength strength);
  static bool configured(const QString& dataDir);
  static QString lockFile(const QString& dataDir);

  bool active() const { return m_active; }
  bool released() const { return m_released; }
  QString error() const { return m_error; }

  // True (and released) when the passphrase is right; otherwise false with
  // error() saying why. Always true for an inactive kiosk.
  Q_INVOKABLE bool release(const QString& passphrase);

 signals:
  void activeChanged();
  void releasedChanged();
  void errorChanged();

 private:
  void setError(const QString& error);

  QString m_dataDir;
  Strength m_strength = Strength::kModerate;
  bool m_active = false;
  bool m_released = false;
  QString m_error;
};

}  // namespace charta::app
