#include "chart_store.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QEvent>
#include <QGuiApplication>
#include <QJSEngine>
#include <QNetworkInformation>
#include <QQmlEngine>
#include <QTimeZone>

#include <algorithm>

#include "charta/platform/desktop_vault.h"
#include "charta/platform/passphrase_vault.h"
#include "text_format.h"

namespace charta::app {

using crdt::Result;
using crdt::Status;

namespace {

ChartStore* g_instance = nullptr;

platform::PassphraseVault::Strength strengthOf(StoreOptions::Kdf kdf) {
  switch (kdf) {
    case StoreOptions::Kdf::kTablet:
      return platform::PassphraseVault::Strength::kTablet;
    case StoreOptions::Kdf::kModerate:
      return platform::PassphraseVault::Strength::kModerate;
    case StoreOptions::Kdf::kInteractive:
      return platform::PassphraseVault::Strength::kInteractive;
    case StoreOptions::Kdf::kMinimumForTests:
      return platform::PassphraseVault::Strength::kMinimumForTests;
  }
  return platform::PassphraseVault::Strength::kTablet;
}

QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

ChartStore::ChartStore(StoreOptions options, QObject* parent) : QObject(parent), m_options(std::move(options)) {
  if (!m_options.clock) {
    m_ownClock = std::make_unique<crdt::SystemWallClock>();
    m_options.clock = m_ownClock.get();
  }
  // With the desktop keyring when the session offers one (chosen now, at
  // run time), else the passphrase alone; either unwraps both kinds of blob.
  m_vault = platform::DesktopVault::forThisSession(strengthOf(m_options.kdf));
  m_lastActivity.start();
  m_idleTimer.setInterval(1000);
  connect(&m_idleTimer, &QTimer::timeout, this, &ChartStore::checkIdle);
  m_syncTimer.setInterval(m_options.syncIntervalMs > 0 ? m_options.syncIntervalMs : 60'000);
  connect(&m_syncTimer, &QTimer::timeout, this, &ChartStore::syncNow);
  m_syncSoonTimer.setSingleShot(true);
  connect(&m_syncSoonTimer, &QTimer::timeout, this, &ChartStore::syncNow);
  if (QCoreApplication::instance()) QCoreApplication::instance()->installEventFilter(this);
  if (auto* gui = qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
    connect(gui, &QGuiApplication::applicationStateChanged, this, &ChartStore::applicationStateChanged);
  }
  // Reachability hints where the platform has a backend (NetworkManager on
  // a Linux desktop; none on a headless machine: then nothing happens).
  if (QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability)) {
    connect(QNetworkInformation::instance(), &QNetworkInformation::reachabilityChanged, this,
            [this](QNetworkInformation::Reachability r) {
              networkReachable(r == QNetworkInformation::Reachability::Online ||
                               r == QNetworkInformation::Reachability::Site);
            });
  }
  openExisting();
}

ChartStore::~ChartStore() {
  if (g_instance == this) g_instance = nullptr;
  waitIdle();
  m_engine.reset();
  if (m_replica) m_replica->lock();
}

void ChartStore::setInstance(ChartStore* store) { g_instance = store; }
ChartStore* ChartStore::instance() { return g_instance; }

ChartStore* ChartStore::create(QQmlEngine*, QJSEngine* js) {
  Q_ASSERT(g_instance);
  // The store belongs to main (or the test), not to the QML engine.
  QJSEngine::setObjectOwnership(g_instance, QJSEngine::CppOwnership);
  if (js && g_instance->thread() != js->thread()) return nullptr;
  return g_instance;
}

std::string ChartStore::replicaPath() const {
  return QDir(m_options.dataDir).filePath(QStringLiteral("replica.db")).toStdString();
}

void ChartStore::openExisting() {
  if (m_options.dataDir.isEmpty()) return;
  sync::ReplicaOptions ro;
  ro.autoLockMs = m_options.autoLockMs;
  ro.clock = m_options.clock;
  auto replica = sync::Replica::open(replicaPath(), ro);
  if (!replica.isOk()) {
    if (replica.status().code() != crdt::Status::Code::kNotFound) {
      m_status.lastError = "This tablet's chart store cannot be opened: " + replica.status().message();
    }
    return;
  }
  m_replica = std::move(replica).value();
  const auto record = m_replica->syncRecord();
  m_status.lastSuccessMs = record.lastSuccessMs;
  m_status.lastError = record.lastError;
  m_status.lastErrorMs = record.lastErrorMs;
  startEngine();
}

void ChartStore::startEngine() {
  if (!m_replica) return;
  sync::HttpTransportOptions to;
  to.baseUrl = m_replica->identity().serverUrl;
  to.caCertFile = m_options.caCertFile.toStdString();
  std::string error;
  m_transport = sync::makeHttpTransport(to, &error);
  if (!m_transport) {
    m_status.lastError = "The server address cannot be used: " + error;
    return;
  }
  sync::EngineOptions eo;
  eo.maxAttempts = m_options.maxSyncAttempts;
  eo.passwordFor = [](const std::string&) { return std::optional<std::string>(); };  // the nurse is asked instead
  eo.onStatus = [this](const sync::SyncStatus& s) {
    QMetaObject::invokeMethod(this, [this, s] { applyStatus(s); }, Qt::QueuedConnection);
  };
  m_engine = std::make_unique<sync::SyncEngine>(*m_replica, *m_transport, eo);
}

bool ChartStore::unlocked() const { return m_replica && m_replica->isUnlocked(); }

QString ChartStore::currentUser() const { return m_replica ? qs(m_replica->currentUser()) : QString(); }

QString ChartStore::currentUserName() const {
  if (!m_replica) return {};
  const std::string me = m_replica->currentUser();
  for (const auto& u : m_replica->users()) {
    if (u.id == me) return qs(u.displayName.empty() ? u.id : u.displayName);
  }
  return qs(me);
}

QVariantList ChartStore::users() const {
  QVariantList out;
  if (!m_replica) return out;
  for (const auto& u : m_replica->users()) {
    out.append(QVariantMap{{QStringLiteral("id"), qs(u.id)},
                           {QStringLiteral("name"), qs(u.displayName.empty() ? u.id : u.displayName)}});
  }
  return out;
}

QString ChartStore::clinic() const { return m_replica ? qs(m_replica->identity().clinic) : QString(); }
QString ChartStore::serverUrl() const { return m_replica ? qs(m_replica->identity().serverUrl) : QString(); }
QString ChartStore::deviceId() const { return m_replica ? qs(m_replica->identity().deviceId) : QString(); }

QString ChartStore::connectivity() const {
  switch (m_status.connectivity) {
    case sync::SyncStatus::Connectivity::kOnline:
      return QStringLiteral("online");
    case sync::SyncStatus::Connectivity::kOffline:
      return QStringLiteral("offline");
    case sync::SyncStatus::Connectivity::kUnknown:
      break;
  }
  return QStringLiteral("unknown");
}

QString ChartStore::lastSyncText() const {
  if (m_status.lastSuccessMs == 0) return tr("never");
  return ago(m_status.lastSuccessMs);
}

QString ChartStore::ago(qint64 ms) const {
  return relativeTime(static_cast<std::int64_t>(nowMs()), static_cast<std::int64_t>(ms));
}

std::uint64_t ChartStore::nowMs() const { return m_options.clock->nowMs(); }

QString ChartStore::today() const {
  return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(nowMs())).toLocalTime().date().toString(Qt::ISODate);
}

void ChartStore::setBusy(bool busy) {
  if (m_busy == busy) return;
  m_busy = busy;
  emit busyChanged();
}

void ChartStore::runInBackground(std::function<std::function<void()>()> work) {
  waitIdle();
  m_workerRunning = true;
  m_worker = std::thread([this, work = std::move(work)] {
    std::function<void()> done = work();
    // The worker counts as running until its result is handled on the GUI
    // thread, so a sync asked for by that result (or meanwhile) is never
    // mistaken for one already under way and dropped.
    QMetaObject::invokeMethod(
        this,
        [this, done = std::move(done)] {
          waitIdle();  // the thread has nothing left to do but return
          m_workerRunning = false;
          done();
          // A sync asked for while other work ran (a break-glass): now.
          if (!m_workerRunning && m_syncQueued && unlocked()) {
            m_syncQueued = false;
            syncNow();
          }
          if (!m_workerRunning && m_breakGlassQueued && unlocked()) {
            const sync::BreakGlassRequest request = *m_breakGlassQueued;
            m_breakGlassQueued.reset();
            startBreakGlass(request);
          }
        },
        Qt::QueuedConnection);
  });
}

void ChartStore::waitIdle() {
  if (m_worker.joinable()) m_worker.join();
}

void ChartStore::enrol(const QString& serverUrl, const QString& code, const QString& user,
                       const QString& passphrase) {
  if (m_replica) {
    emit enrolFinished(false, tr("This tablet is already enrolled."));
    return;
  }
  if (m_busy) return;
  if (serverUrl.trimmed().isEmpty() || code.trimmed().isEmpty() || user.trimmed().isEmpty()) {
    emit enrolFinished(false, tr("Enter the server address, the enrolment code and your user name."));
    return;
  }
  if (passphrase.size() < static_cast<int>(platform::PassphraseVault::kMinPassphraseChars)) {
    emit enrolFinished(false, tr("The passphrase must have at least %1 characters.")
                                  .arg(platform::PassphraseVault::kMinPassphraseChars));
    return;
  }
  if (!QDir().mkpath(m_options.dataDir)) {
    emit enrolFinished(false, tr("Cannot create the data folder %1.").arg(m_options.dataDir));
    return;
  }
  setBusy(true);
  const std::string url = serverUrl.trimmed().toStdString(), c = code.trimmed().toStdString(),
                    u = user.trimmed().toStdString(), p = passphrase.toStdString();
  runInBackground([this, url, c, u, p] {
    sync::HttpTransportOptions to;
    to.baseUrl = url;
    to.caCertFile = m_options.caCertFile.toStdString();
    std::string error;
    auto transport = sync::makeHttpTransport(to, &error);
    std::unique_ptr<sync::Replica> replica;
    if (transport) {
      sync::ReplicaOptions ro;
      ro.autoLockMs = m_options.autoLockMs;
      ro.clock = m_options.clock;
      auto r = sync::SyncEngine::enrol(*transport, replicaPath(), url, c, "charta-tablet", *m_vault, u, p, p, ro);
      if (r.isOk()) {
        replica = std::move(r).value();
      } else {
        error = r.status().message();
      }
    }
    auto shared = std::make_shared<std::unique_ptr<sync::Replica>>(std::move(replica));
    return [this, shared, error] {
      setBusy(false);
      if (!*shared) {
        emit enrolFinished(false, tr("Enrolment failed: %1").arg(qs(error)));
        return;
      }
      m_replica = std::move(*shared);
      startEngine();
      m_caseload.clear();
      m_lastActivity.restart();
      m_idleTimer.start();
      if (m_options.syncIntervalMs > 0) m_syncTimer.start();
      emit stateChanged();
      emit enrolFinished(true, QString());
      syncNow();
    };
  });
}

void ChartStore::unlock(const QString& user, const QString& passphrase) {
  if (!m_replica) {
    emit unlockFinished(false, tr("This tablet is not enrolled yet."));
    return;
  }
  if (m_busy) return;
  setBusy(true);
  const std::string u = user.toStdString(), p = passphrase.toStdString();
  runInBackground([this, u, p] {
    Status st = m_replica->unlock(*m_vault, u, p);
    bool signedIn = false;
    if (st.isOk() && m_engine) {
      auto session = m_replica->session(u);
      const bool expired = !session.isOk() || !session.value() ||
                           session.value()->expiresAtMs <= static_cast<std::int64_t>(nowMs()) + 60'000;
      if (expired) signedIn = m_engine->signIn(p).isOk();  // offline is fine: charting goes on
    }
    return [this, st, signedIn] {
      setBusy(false);
      if (!st.isOk()) {
        const QString why = st.code() == crdt::Status::Code::kRejected ? tr("Wrong user or passphrase.")
                                                                       : tr("Cannot unlock: %1").arg(qs(st.message()));
        emit unlockFinished(false, why);
        return;
      }
      if (signedIn) m_status.signInNeeded = false;
      m_caseload.clear();
      m_lastActivity.restart();
      m_idleTimer.start();
      if (m_options.syncIntervalMs > 0) m_syncTimer.start();
      m_summariesValid = false;
      refreshConflictCount();
      // Pages are made anew for the unlocked tablet (stateChanged): no
      // chartsChanged, which would make them read every summary again.
      emit stateChanged();
      emit unlockFinished(true, QString());
      syncNow();
    };
  });
}

void ChartStore::lock() {
  if (!m_replica) return;
  m_idleTimer.stop();
  m_syncTimer.stop();
  m_syncSoonTimer.stop();
  m_replica->lock();
  if (m_breakGlassQueued) {
    m_breakGlassQueued.reset();
    emit breakGlassFinished(false, QString(), tr("The tablet locked before the chart was asked for: try again."));
  }
  m_caseload.clear();
  m_summaries.clear();
  m_summariesValid = false;
  emit locked();
  emit stateChanged();
}

void ChartStore::applicationStateChanged(Qt::ApplicationState state) {
  if (state == Qt::ApplicationHidden || state == Qt::ApplicationSuspended) {
    if (!unlocked()) return;
    if (!m_engine) {
      lock();
      return;
    }
    m_lockAfterSync = true;
    syncNow();  // queued behind a running sync or break-glass: the lock waits for it
  } else if (state == Qt::ApplicationActive) {
    m_lockAfterSync = false;
    syncNow();  // nothing when locked: unlocking syncs
  }
}

void ChartStore::networkReachable(bool reachable) {
  if (reachable) syncNow();
}

void ChartStore::touch() {
  m_lastActivity.restart();
}

bool ChartStore::eventFilter(QObject* watched, QEvent* event) {
  switch (event->type()) {
    case QEvent::MouseButtonPress:
    case QEvent::KeyPress:
    case QEvent::TouchBegin:
    case QEvent::Wheel:
      m_lastActivity.restart();
      break;
    default:
      break;
  }
  return QObject::eventFilter(watched, event);
}

void ChartStore::checkIdle() {
  if (!unlocked()) {
    // The replica locked itself (its own idle clock) or was never unlocked.
    if (m_idleTimer.isActive()) lock();
    return;
  }
  if (m_options.autoLockMs > 0 && m_lastActivity.elapsed() >= m_options.autoLockMs) {
    lock();
    return;
  }
  m_replica->touch();
  purgeExpiredBreakGlass();
}

void ChartStore::purgeExpiredBreakGlass() {
  if (!unlocked()) return;
  auto purged = m_replica->purgeExpiredBreakGlass();
  if (purged.isOk() && purged.value() > 0) {
    m_summariesValid = false;
    refreshConflictCount();
    emit chartsChanged({});
  }
}

void ChartStore::breakGlass(const QString& identifier, const QString& birthDate, const QString& reason) {
  auto refuse = [this](const QString& why) { emit breakGlassFinished(false, QString(), why); };
  if (!unlocked()) return refuse(tr("Unlock the tablet first."));
  if (identifier.trimmed().isEmpty()) return refuse(tr("Enter the patient's identifier (record or insurance number)."));
  const QDate born = QDate::fromString(birthDate.trimmed(), Qt::ISODate);
  if (!born.isValid() || birthDate.trimmed().size() != 10) {
    return refuse(tr("Enter the birth date as YYYY-MM-DD."));
  }
  if (reason.simplified().size() < 5) return refuse(tr("Say why you need this chart (at least 5 characters)."));
  if (!m_engine) return refuse(tr("This tablet has no server to ask."));
  sync::BreakGlassRequest request;
  request.identifier = identifier.trimmed().toStdString();
  request.birthDate = birthDate.trimmed().toStdString();
  request.reason = reason.simplified().toStdString();
  if (m_workerRunning) {
    // A sync is under way: the request runs as soon as it ends.
    m_breakGlassQueued = request;
    return;
  }
  startBreakGlass(request);
}

void ChartStore::fetchAttachment(const QString& patient, const QString& hash, qint64 size, const QString& mediaType) {
  auto refuse = [&](const QString& why) { emit attachmentFetched(hash, false, why); };
  if (!unlocked()) return refuse(tr("Unlock the tablet first."));
  if (!m_engine) return refuse(tr("This tablet has no server to ask."));
  if (m_workerRunning) return refuse(tr("A sync is under way: try again when it has finished."));
  sync::AttachmentWant want;
  want.patient = patient.toStdString();
  want.hash = hash.toStdString();
  want.size = size > 0 ? static_cast<std::uint64_t>(size) : 0;
  want.mediaType = mediaType.toStdString();
  setBusy(true);
  runInBackground([this, want, hash, patient] {
    const crdt::Status st = m_engine->fetchAttachment(want);
    return [this, st, hash, patient] {
      setBusy(false);
      applyStatus(m_engine->status());
      if (st.isOk()) {
        emit chartsChanged({patient});
        emit attachmentFetched(hash, true, QString());
        return;
      }
      QString why = tr("Not downloaded: %1").arg(qs(st.message()));
      if (st.code() == crdt::Status::Code::kNotFound) {
        why = tr("The server does not have this file yet: the tablet that attached it has not uploaded it.");
      } else if (st.code() == crdt::Status::Code::kIoError) {
        why = tr("The server cannot be reached now. The file downloads at a later sync.");
      }
      emit attachmentFetched(hash, false, why);
    };
  });
}

void ChartStore::startBreakGlass(const sync::BreakGlassRequest& request) {
  setBusy(true);
  runInBackground([this, request] {
    auto outcome = m_engine->breakGlass(request);
    return [this, outcome] {
      setBusy(false);
      applyStatus(m_engine->status());
      if (!outcome.isOk()) {
        const crdt::Status& st = outcome.status();
        QString why = qs(st.message());
        if (st.code() == crdt::Status::Code::kNotFound) {
          why = tr("No patient has this identifier and birth date. Check both and try again.");
        }
        emit breakGlassFinished(false, QString(), why);
        return;
      }
      const QString patient = qs(outcome.value().patient);
      if (!outcome.value().inScope) {
        m_summariesValid = false;
        emit chartsChanged({patient});
      }
      emit breakGlassFinished(true, patient, QString());
    };
  });
}

QVariantMap ChartStore::breakGlassInfo(const QString& patientId) const {
  QVariantMap out{{"active", false}};
  if (!unlocked()) return out;
  for (const sync::BreakGlassInfo& info : m_replica->breakGlassCopies()) {
    if (qs(info.patient) != patientId) continue;
    out["active"] = true;
    out["clinic"] = qs(info.clinic);
    out["reason"] = qs(info.reason);
    out["user"] = qs(info.user);
    out["expiresAt"] = QDateTime::fromMSecsSinceEpoch(info.expiresAtMs).toLocalTime().toString("yyyy-MM-dd HH:mm");
  }
  return out;
}

void ChartStore::syncNow() {
  if (!m_engine || !unlocked()) return;
  if (m_workerRunning) {
    m_syncQueued = true;
    return;
  }
  setBusy(true);
  runInBackground([this] {
    sync::SyncReport report = m_engine->syncOnce();
    return [this, report] {
      setBusy(false);
      applyStatus(m_engine->status());
      if (report.wiped) {
        m_summariesValid = false;
        m_summaries.clear();
        m_replica.reset();
        sync::Replica::destroy(replicaPath());
        m_engine.reset();
        emit stateChanged();
        emit chartsChanged({});
      } else if (report.pulled > 0 || report.newEpoch || report.refused > 0) {
        m_summariesValid = false;
        refreshConflictCount();
        emit chartsChanged({});
      }
      emit syncFinished(report.ok, qs(report.message));
      if (m_syncQueued) {
        m_syncQueued = false;
        syncNow();
      } else if (m_lockAfterSync) {
        m_lockAfterSync = false;
        lock();
      }
    };
  });
}

QString ChartStore::addUser(const QString& user, const QString& displayName, const QString& passphrase) {
  if (!unlocked()) return tr("Unlock the tablet first.");
  if (user.trimmed().isEmpty()) return tr("Enter the user name the clinic gave them.");
  sync::UserInfo info;
  info.id = user.trimmed().toStdString();
  info.displayName = displayName.trimmed().toStdString();
  info.addedAtMs = static_cast<std::int64_t>(nowMs());
  Status st = m_replica->addUser(*m_vault, info, passphrase.toStdString());
  if (!st.isOk()) {
    if (st.code() == crdt::Status::Code::kAlreadyExists) return tr("%1 is already a user of this tablet.").arg(user);
    return qs(st.message());
  }
  emit stateChanged();
  return {};
}

void ChartStore::applyStatus(const sync::SyncStatus& status) {
  m_status = status;
  if (m_replica) m_status.pendingOps = m_replica->pendingOpCount();
  emit syncStatusChanged();
}

void ChartStore::refreshConflictCount() {
  int total = 0;
  for (const auto& s : summaries()) total += static_cast<int>(s.openConflicts);
  if (total != m_openConflicts) {
    m_openConflicts = total;
    emit openConflictsChanged();
  }
}

void ChartStore::reloadCharts() {
  m_summariesValid = false;
  refreshConflictCount();
  emit chartsChanged({});
}

void ChartStore::scheduleSyncSoon() {
  if (m_options.syncAfterEditMs >= 0 && m_engine) m_syncSoonTimer.start(m_options.syncAfterEditMs);
}

Result<crdt::ChartDocument> ChartStore::readChart(const std::string& patient, std::string_view purpose) {
  if (!unlocked()) return Status::rejected("locked");
  addToCaseload(patient);
  return m_replica->chartCopy(patient, purpose);
}

std::vector<sync::PatientSummary> ChartStore::summaries(std::size_t* skipped) const {
  if (skipped) *skipped = 0;
  if (!m_replica || !m_replica->isUnlocked()) return {};
  if (!m_summariesValid) {
    m_summaries.clear();
    m_summariesSkipped = 0;
    for (const std::string& p : m_replica->patients()) {
      auto s = m_replica->summary(p);
      if (s.isOk()) {
        m_summaries.push_back(std::move(s).value());
      } else {
        ++m_summariesSkipped;  // a damaged row: never shown (and audited by the replica)
      }
    }
    m_summariesValid = true;
  }
  if (skipped) *skipped = m_summariesSkipped;
  return m_summaries;
}

void ChartStore::updateSummary(const std::string& patient) {
  if (!m_summariesValid) return;
  auto s = m_replica->summary(patient);
  if (!s.isOk()) {
    m_summariesValid = false;
    return;
  }
  auto it = std::lower_bound(m_summaries.begin(), m_summaries.end(), patient,
                             [](const sync::PatientSummary& a, const std::string& id) { return a.patient < id; });
  if (it != m_summaries.end() && it->patient == patient) {
    *it = std::move(s).value();
  } else {
    m_summaries.insert(it, std::move(s).value());
  }
}

Result<crdt::Op> ChartStore::edit(const std::string& patient, const sync::Replica::MakeOp& make) {
  if (!unlocked()) return Status::rejected("locked");
  auto op = m_replica->edit(patient, make);
  if (!op.isOk()) return op;
  addToCaseload(patient);
  updateSummary(patient);
  m_status.pendingOps = m_replica->pendingOpCount();
  refreshConflictCount();
  emit syncStatusChanged();
  emit chartsChanged({qs(patient)});
  scheduleSyncSoon();
  return op;
}

Status ChartStore::audit(std::string_view action, const std::string& patient, std::string_view detailJson) {
  if (!unlocked()) return Status::rejected("locked");
  return m_replica->recordAudit(action, patient, detailJson);
}

bool ChartStore::inCaseload(const std::string& patient) const { return m_caseload.contains(patient); }
void ChartStore::addToCaseload(const std::string& patient) { m_caseload.insert(patient); }

}  // namespace charta::app
