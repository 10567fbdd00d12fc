// ChartStore: the tablet's charts and their sync, for the app.
//
// Owns the device's encrypted replica (sync::Replica), the sync engine and
// its worker thread, and the key vault. Every model and controller of the app
// reads and edits charts through it; it signals chartsChanged() after a local
// edit or a sync that brought something new, and publishes the sync status in
// plain words for the status bar.
//
// Flows: enrol() (first run: server URL, one-time code, the first user of
// this tablet), unlock() / lock() (and auto-lock after idle: any input event
// counts as activity), addUser() (another member of the clinic on a shared
// tablet), syncNow() (also every syncIntervalMs while unlocked and shortly
// after an edit).
//
// The tablet passphrase of a user is also their Charta password: unlock opens
// the replica's keys with it and, when the server session has ended, signs
// in again with it.
//
// Threading: lives on the GUI thread. enrol, unlock and sync run on worker
// threads (Argon2id and the network take time) and report back with signals
// on the GUI thread. Charts are copied out of the replica under its lock, so
// what a page shows never changes under it while a sync applies a page.
#pragma once

#include <QObject>
#include <QElapsedTimer>
#include <QStringList>
#include <QTimer>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "charta/crdt/chart_document.h"
#include "charta/sync/engine.h"
#include "charta/sync/replica.h"

class QQmlEngine;
class QJSEngine;

namespace charta::sync {
class KeyVault;
}

namespace charta::app {

struct StoreOptions {
  QString dataDir;             // holds replica.db
  QString caCertFile;          // PEM trusted for https (empty: the system's store)
  int autoLockMs = 5 * 60 * 1000;
  int syncIntervalMs = 60 * 1000;  // 0: only on demand and after edits
  int syncAfterEditMs = 3000;      // -1: never on its own
  int maxSyncAttempts = 6;         // per request within one sync (see sync::EngineOptions)
  // Argon2id cost of new wraps (the tablet strength for real use: about
  // 0.5 s with 128 MiB; tests use the minimum).
  enum class Kdf { kTablet, kModerate, kInteractive, kMinimumForTests } kdf = Kdf::kTablet;
  const crdt::WallClock* clock = nullptr;  // nullptr: the system clock
};

class ChartStore : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_SINGLETON

  Q_PROPERTY(bool enrolled READ enrolled NOTIFY stateChanged)
  Q_PROPERTY(bool unlocked READ unlocked NOTIFY stateChanged)
  Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
  Q_PROPERTY(QString currentUser READ currentUser NOTIFY stateChanged)
  Q_PROPERTY(QString currentUserName READ currentUserName NOTIFY stateChanged)
  Q_PROPERTY(QVariantList users READ users NOTIFY stateChanged)
  Q_PROPERTY(QString clinic READ clinic NOTIFY stateChanged)
  Q_PROPERTY(QString serverUrl READ serverUrl NOTIFY stateChanged)
  Q_PROPERTY(QString deviceId READ deviceId NOTIFY stateChanged)
  Q_PROPERTY(QString connectivity READ connectivity NOTIFY syncStatusChanged)
  Q_PROPERTY(bool syncing READ syncing NOTIFY syncStatusChanged)
  Q_PROPERTY(int pendingEdits READ pendingEdits NOTIFY syncStatusChanged)
  Q_PROPERTY(QString lastSyncText READ lastSyncText NOTIFY syncStatusChanged)
  Q_PROPERTY(QString lastError READ lastError NOTIFY syncStatusChanged)
  Q_PROPERTY(bool signInNeeded READ signInNeeded NOTIFY syncStatusChanged)
  Q_PROPERTY(int progressDone READ progressDone NOTIFY syncStatusChanged)
  Q_PROPERTY(int progressTotal READ progressTotal NOTIFY syncStatusChanged)
  Q_PROPERTY(bool wiped READ wiped NOTIFY syncStatusChanged)
  Q_PROPERTY(int openConflicts READ openConflicts NOTIFY openConflictsChanged)
  Q_PROPERTY(int autoLockSeconds READ autoLockSeconds NOTIFY stateChanged)

 public:
  explicit ChartStore(StoreOptions options, QObject* parent = nullptr);
  ~ChartStore() override;

  // The instance QML sees as the ChartStore singleton: main (and tests) make
  // the store and hand it over before the QML engine loads anything.
  static void setInstance(ChartStore* store);
  static ChartStore* instance();
  static ChartStore* create(QQmlEngine* qml, QJSEngine* js);

  bool enrolled() const { return m_replica != nullptr; }
  bool unlocked() const;
  bool busy() const { return m_busy; }
  QString currentUser() const;
  QString currentUserName() const;
  QVariantList users() const;
  QString clinic() const;
  QString serverUrl() const;
  QString deviceId() const;
  QString connectivity() const;
  bool syncing() const { return m_status.syncing; }
  int pendingEdits() const { return static_cast<int>(m_status.pendingOps); }
  QString lastSyncText() const;
  QString lastError() const { return QString::fromStdString(m_status.lastError); }
  bool signInNeeded() const { return m_status.signInNeeded; }
  int progressDone() const { return static_cast<int>(m_status.progressDone); }
  int progressTotal() const { return static_cast<int>(m_status.progressTotal); }
  bool wiped() const { return m_status.wiped; }
  int openConflicts() const { return m_openConflicts; }
  int autoLockSeconds() const { return m_options.autoLockMs / 1000; }

  // First run: enrols this device and creates its replica with its first
  // user; enrolFinished tells how it went.
  Q_INVOKABLE void enrol(const QString& serverUrl, const QString& code, const QString& user,
                         const QString& passphrase);
  // unlockFinished tells how it went (a wrong passphrase in plain words).
  Q_INVOKABLE void unlock(const QString& user, const QString& passphrase);
  // Locks now: keys zeroed, every page drops what it showed.
  Q_INVOKABLE void lock();
  // Activity (also counted from every input event of the application).
  Q_INVOKABLE void touch();
  Q_INVOKABLE void syncNow();
  // Reads every chart's summary again and tells every page (after the
  // replica changed other than through this store).
  Q_INVOKABLE void reloadCharts();
  // Adds a member of the clinic as a user of this tablet (REQUIRES: unlocked).
  // Returns an empty string, or what is wrong.
  Q_INVOKABLE QString addUser(const QString& user, const QString& displayName, const QString& passphrase);
  // Break-glass: opens a chart of another clinic, found on the server by an
  // identifier and birth date, with the reason the user typed (audited on
  // the server and here). The copy is read-only and destroyed at its expiry.
  // breakGlassFinished tells how it went and which chart to open.
  Q_INVOKABLE void breakGlass(const QString& identifier, const QString& birthDate, const QString& reason);
  // {active, clinic, reason, user, expiresAt} of a break-glass copy
  // (active false for a chart in scope).
  Q_INVOKABLE QVariantMap breakGlassInfo(const QString& patientId) const;
  // Downloads the original of an attachment now, outside the tablet's
  // storage budget (a photo the nurse opens that is not on the tablet);
  // attachmentFetched tells how it went, and chartsChanged follows a success.
  Q_INVOKABLE void fetchAttachment(const QString& patient, const QString& hash, qint64 size, const QString& mediaType);
  // Milliseconds since the epoch as "2 h ago" relative to now.
  Q_INVOKABLE QString ago(qint64 ms) const;

  // --- for the models and controllers (C++) ---
  sync::Replica* replica() { return m_replica.get(); }
  std::uint64_t nowMs() const;
  QString today() const;  // YYYY-MM-DD in local time
  // A copy of a chart for a person to read (audited as chart.read with the
  // purpose; an empty purpose refreshes a chart already opened).
  crdt::Result<crdt::ChartDocument> readChart(const std::string& patient, std::string_view purpose = "view");
  // Summaries of every patient on the tablet, sorted by patient id (those
  // that fail to open are left out and counted in skipped). Cached.
  std::vector<sync::PatientSummary> summaries(std::size_t* skipped = nullptr) const;
  // A local edit (see sync::Replica::edit); signals chartsChanged on success.
  crdt::Result<crdt::Op> edit(const std::string& patient, const sync::Replica::MakeOp& make);
  // Records an audit event for the current user.
  crdt::Status audit(std::string_view action, const std::string& patient, std::string_view detailJson);
  // The patients the current user has charted or opened on this tablet
  // (their caseload here), kept in memory for the session.
  bool inCaseload(const std::string& patient) const;
  void addToCaseload(const std::string& patient);

  // Waits for a running sync or unlock to finish (tests, shutdown).
  void waitIdle();

  // The app's lifecycle (QGuiApplication::applicationStateChanged, connected
  // by the constructor). Hidden or suspended (a tablet OS sending the app to
  // the background): the outbox is flushed by one sync, and the tablet locks
  // when it ends, whether or not the server was reached (at once when there
  // is no engine). Active again: a sync when unlocked (unlocking syncs
  // anyway). Inactive (another window has the focus) changes nothing.
  void applicationStateChanged(Qt::ApplicationState state);
  // A reachability hint (QNetworkInformation, where the platform has a
  // backend): the network came back, so sync now rather than at the next
  // tick. Only a hint: the engine's own calls decide what the status shows.
  void networkReachable(bool reachable);

 signals:
  void stateChanged();
  void busyChanged();
  void syncStatusChanged();
  // Charts changed (an edit or a sync); empty: possibly all of them.
  void chartsChanged(const QStringList& patients);
  void enrolFinished(bool ok, const QString& message);
  void unlockFinished(bool ok, const QString& message);
  void syncFinished(bool ok, const QString& message);
  void breakGlassFinished(bool ok, const QString& patientId, const QString& message);
  void attachmentFetched(const QString& hash, bool ok, const QString& message);
  // The app locked itself (idle, or lock()): pages drop what they show.
  void locked();
  void openConflictsChanged();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void openExisting();
  void startEngine();
  void setBusy(bool busy);
  void runInBackground(std::function<std::function<void()>()> work);
  void applyStatus(const sync::SyncStatus& status);
  void refreshConflictCount();
  void updateSummary(const std::string& patient);
  void checkIdle();
  void purgeExpiredBreakGlass();
  void startBreakGlass(const sync::BreakGlassRequest& request);
  void scheduleSyncSoon();
  std::string replicaPath() const;

  StoreOptions m_options;
  std::unique_ptr<crdt::WallClock> m_ownClock;
  std::unique_ptr<sync::KeyVault> m_vault;
  std::unique_ptr<sync::Replica> m_replica;
  std::unique_ptr<sync::Transport> m_transport;
  std::unique_ptr<sync::SyncEngine> m_engine;
  sync::SyncStatus m_status;
  std::thread m_worker;
  bool m_workerRunning = false;  // GUI thread only
  bool m_busy = false;
  bool m_syncQueued = false;
  bool m_lockAfterSync = false;  // the app went to the background: lock once the flush ends
  // A break-glass asked for while the worker was busy: it runs next.
  std::optional<sync::BreakGlassRequest> m_breakGlassQueued;
  int m_openConflicts = 0;
  QTimer m_idleTimer;
  QTimer m_syncTimer;
  QTimer m_syncSoonTimer;
  QElapsedTimer m_lastActivity;
  std::set<std::string> m_caseload;
  // Summaries of every patient, opened once and kept while unlocked: a
  // local edit updates its patient's, a sync that brought something reloads
  // them all on the next read.
  mutable std::vector<sync::PatientSummary> m_summaries;
  mutable std::size_t m_summariesSkipped = 0;
  mutable bool m_summariesValid = false;
  std::string m_pendingPassword;  // between unlock and the sign-in it may need; cleared after
};

}  // namespace charta::app
