#include "backup.h"

#include <filesystem>
#include <map>

#include "crypto.h"
#include "json.h"

namespace charta::server {
namespace {

using P = std::vector<DbValue>;
constexpr std::int64_t kPage = 5000;

// Tables paged by their integer key; the rest are small and copied whole.
const std::map<std::string, std::string>& pagedTables() {
  static const std::map<std::string, std::string> kPaged = {{"ops", "seq"}, {"audit", "seq"}, {"scope_changes", "seq"}};
  return kPaged;
}

std::string insertSql(const std::string& table, std::size_t columns) {
  std::string sql = "INSERT INTO " + table + " VALUES (";
  for (std::size_t i = 1; i <= columns; ++i) sql += (i > 1 ? ", $" : "$") + std::to_string(i);
  return sql + ")";
}

// Copies `table` from `from` to `to` (same schema, same column order).
Result<std::int64_t> copyTable(Connection& from, Connection& to, const std::string& table) {
  std::int64_t copied = 0;
  auto paged = pagedTables().find(table);
  std::int64_t after = std::numeric_limits<std::int64_t>::min();
  for (;;) {
    Result<std::vector<DbRow>> rows =
        paged == pagedTables().end()
            ? from.query("SELECT * FROM " + table)
            : from.query("SELECT * FROM " + table + " WHERE " + paged->second + " > $1 ORDER BY " + paged->second +
                             " LIMIT $2",
                         P{after, kPage});
    if (!rows.isOk()) return rows.status();
    if (rows.value().empty()) break;
    auto r = to.queryMany(insertSql(table, rows.value()[0].size()), rows.value());
    if (!r.isOk()) return r.status();
    copied += static_cast<std::int64_t>(rows.value().size());
    if (paged == pagedTables().end() || static_cast<std::int64_t>(rows.value().size()) < kPage) break;
    after = dbInt(rows.value().back()[0]);  // the key is the first column of every paged table
  }
  return copied;
}

// Backups are SQLite files; one made by an older server lacks the tables
// added since (with the same schema version).
Result<bool> backupHasTable(Connection& backup, const std::string& table) {
  auto rows = backup.query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1", P{table});
  if (!rows.isOk()) return rows.status();
  return dbInt(rows.value()[0][0]) > 0;
}

Result<std::int64_t> countRows(Connection& c, const std::string& table) {
  auto rows = c.query("SELECT COUNT(*) FROM " + table);
  if (!rows.isOk()) return rows.status();
  return dbInt(rows.value()[0][0]);
}

}  // namespace

Result<BackupInfo> backupStore(Store& store, const std::string& path, const std::string& actor) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Status::alreadyExists("backup file " + path + " exists; choose a new name");
  if (store.dialect() == Dialect::kSqlite) {
    Status s = store.db().backupSqliteTo(path);
    if (!s.isOk()) return s;
  } else {
    auto target = Database::openSqlite(path, 1);
    if (!target.isOk()) return target.status();
    auto out = target.value()->acquire();
    if (!out.isOk()) return out.status();
    Status s = (*out.value()).execScript(schemaSql(Dialect::kSqlite));
    if (!s.isOk()) return s;
    auto in = store.db().acquire();
    if (!in.isOk()) return in.status();
    Connection& src = *in.value();
    s = src.begin(false);
    if (s.isOk()) s = src.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    if (s.isOk()) s = (*out.value()).begin(true);
    for (const std::string& table : storeTables()) {
      if (!s.isOk()) break;
      s = copyTable(src, *out.value(), table).status();
    }
    if (s.isOk()) s = (*out.value()).commit();
    Status end = src.rollback();
    if (!s.isOk()) {
      std::filesystem::remove(path, ec);
      return s;
    }
    if (!end.isOk()) return end;
  }
  BackupInfo info;
  {
    auto check = Database::openSqlite(path, 1);
    if (!check.isOk()) return check.status();
    auto lease = check.value()->acquire();
    if (!lease.isOk()) return lease.status();
    auto ops = countRows(*lease.value(), "ops");
    auto audit = countRows(*lease.value(), "audit");
    if (!ops.isOk()) return ops.status();
    if (!audit.isOk()) return audit.status();
    info.ops = ops.value();
    info.auditRows = audit.value();
  }
  info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  Status s = store.write([&](WriteTx& tx) {
    tx.setActor(actor, "", "local");
    tx.audit({"", "", "", "store.backup", "", "",
              json::serialize(json::Object{{"file", std::filesystem::path(path).filename().string()},
                                           {"ops", info.ops},
                                           {"bytes", info.bytes}})});
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return info;
}

Result<RestoreInfo> restoreStore(Store& store, const std::string& path, const std::string& actor) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::notFound("no backup file at " + path);
  auto backup = Database::openSqlite(path, 1);
  if (!backup.isOk()) return backup.status();
  auto lease = backup.value()->acquire();
  if (!lease.isOk()) return lease.status();
  Connection& src = *lease.value();
  auto version = src.query("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!version.isOk() || version.value().empty()) {
    return Status::corruption(path + " is not a Charta backup (no schema version)");
  }
  if (dbText(version.value()[0][0]) != std::to_string(kSchemaVersion)) {
    return Status::unsupportedVersion(path + " has schema version " + dbText(version.value()[0][0]) +
                                      ", this server knows " + std::to_string(kSchemaVersion));
  }
  auto backupHead = src.query("SELECT op_seq, audit_seq, audit_hash, server_counter FROM head WHERE id = 1");
  if (!backupHead.isOk() || backupHead.value().size() != 1) return Status::corruption(path + " has no head row");
  const DbRow& bh = backupHead.value()[0];

  RestoreInfo info;
  info.epoch = randomToken(16);
  Status s = store.write([&](WriteTx& tx) -> Status {
    tx.setActor(actor, "", "local");
    Connection& c = tx.conn();
    auto auditRows = countRows(c, "audit");
    if (!auditRows.isOk()) return auditRows.status();
    info.keptAudit = auditRows.value() > 0;
    auto revokedDevices = c.query("SELECT id, revoked_at FROM devices WHERE revoked_at IS NOT NULL");
    if (!revokedDevices.isOk()) return revokedDevices.status();
    auto revokedUsers = c.query("SELECT id, revoked_at FROM users WHERE revoked_at IS NOT NULL");
    if (!revokedUsers.isOk()) return revokedUsers.status();
    auto replica = c.query("SELECT value FROM meta WHERE key = 'server_replica'");
    if (!replica.isOk()) return replica.status();

    // The devices' audit cursors say which of their events the chain holds,
    // so they stay with the chain: kept with the kept audit trail (a device
    // does not send again what it was told is stored), else the backup's.
    auto keep = [&](const std::string& table) {
      return table == "head" || ((table == "audit" || table == "device_audit") && info.keptAudit);
    };
    for (auto it = storeTables().rbegin(); it != storeTables().rend(); ++it) {
      if (keep(*it)) continue;
      Status d = c.exec("DELETE FROM " + *it);
      if (!d.isOk()) return d;
    }
    for (const std::string& table : storeTables()) {
      if (keep(table)) continue;
      auto present = backupHasTable(src, table);
      if (!present.isOk()) return present.status();
      if (!present.value()) continue;  // a backup made before the table existed: it had no rows
      auto n = copyTable(src, c, table);
      if (!n.isOk()) return n.status();
      if (table == "ops") info.ops = n.value();
    }
    // The replaced store's identity, epoch and revocations win over the backup's.
    Status st = c.exec("UPDATE meta SET value = $1 WHERE key = 'epoch'", P{info.epoch});
    if (st.isOk() && !replica.value().empty()) {
      st = c.exec("UPDATE meta SET value = $1 WHERE key = 'server_replica'", P{dbText(replica.value()[0][0])});
    }
    if (st.isOk()) st = c.exec("DELETE FROM sessions");
    if (st.isOk()) st = c.exec("DELETE FROM portal_sessions");
    for (const DbRow& r : revokedDevices.value()) {
      if (!st.isOk()) break;
      st = c.exec("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", P{r[0], r[1]});
    }
    for (const DbRow& r : revokedUsers.value()) {
      if (!st.isOk()) break;
      st = c.exec("UPDATE users SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", P{r[0], r[1]});
    }
    if (!st.isOk()) return st;
    tx.head().opSeq = std::max(tx.head().opSeq, dbInt(bh[0]));
    tx.head().serverCounter = std::max(tx.head().serverCounter, dbInt(bh[3]));
    if (!info.keptAudit) {
      tx.head().auditSeq = dbInt(bh[1]);
      tx.head().auditHash = dbBytes(bh[2]);
    }
    tx.audit({"", "", "", "store.restore", "", "",
              json::serialize(json::Object{{"file", std::filesystem::path(path).filename().string()},
                                           {"ops", info.ops},
                                           {"backup_op_seq", dbInt(bh[0])},
                                           {"epoch", info.epoch}})});
    return Status::ok();
  });
  if (!s.isOk()) return s;
  return info;
}

}  // namespace charta::server
