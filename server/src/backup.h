#pragma once

// Backup and restore of the server's store, the same on SQLite and on
// PostgreSQL: a backup is always one SQLite file with the store's schema.
//   - On SQLite it is SQLite's online backup of the live file.
//   - On PostgreSQL every table is read in one REPEATABLE READ transaction
//     (a consistent snapshot while the server keeps serving) and written to
//     a new SQLite file.
// So a backup restores onto either backend (a clinic can also move from
// SQLite to PostgreSQL this way).
//
// Restoring starts a new epoch: devices that see it push again every op the
// server lacks, so nothing any tablet still holds is lost. What restore keeps
// from the store it replaces, when that store is readable:
//   - the audit trail (access that happened after the backup stays recorded;
//     the restore itself is an audit event) and, with it, how far each
//     device's uploaded audit events reach,
//   - device and user revocations (a device revoked after the backup stays
//     revoked),
//   - the largest op sequence and server op counter (never reused).
// Sessions are dropped: everyone signs in again.

#include <string>

#include "charta/server/config.h"
#include "store.h"

namespace charta::server {

struct BackupInfo {
  std::int64_t ops = 0;
  std::int64_t auditRows = 0;
  std::int64_t bytes = 0;
};

// Writes a consistent snapshot of the open store to `path` (which must not
// exist). An audit event records it.
Result<BackupInfo> backupStore(Store& store, const std::string& path, const std::string& actor);

struct RestoreInfo {
  std::int64_t ops = 0;
  std::string epoch;
  bool keptAudit = false;
};

// Replaces the contents of `store` with the backup at `path`. The server must
// not be serving from this store while it runs.
Result<RestoreInfo> restoreStore(Store& store, const std::string& path, const std::string& actor);

}  // namespace charta::server
