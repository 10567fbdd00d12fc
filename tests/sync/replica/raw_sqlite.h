// The replica file read and changed behind the replica's back, as someone
// holding a stolen tablet (or a failing disk) would: for the replica suites.
#pragma once

#include <sqlite3.h>

#include <QtTest>
#include <string>

namespace charta::testing {

// Runs SQL on the file (the replica closed).
inline void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  QVERIFY(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) qWarning() << err;
  sqlite3_free(err);
  sqlite3_close(db);
  QCOMPARE(rc, SQLITE_OK);
}

// The first column of the first row, as bytes (a number as its text);
// empty when there is no row or it is NULL.
inline std::string rawScalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    const void* p = sqlite3_column_blob(st, 0);
    if (p != nullptr) out.assign(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Flips one bit of a stored blob, as a failing disk or a tamperer would.
inline void rawFlipBit(const std::string& path, const std::string& table, const std::string& column,
                       const std::string& where, int byteIndex) {
  sqlite3* db = nullptr;
  QVERIFY(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string select = "SELECT " + column + " FROM " + table + " WHERE " + where;
  QVERIFY(sqlite3_prepare_v2(db, select.c_str(), -1, &st, nullptr) == SQLITE_OK);
  QVERIFY(sqlite3_step(st) == SQLITE_ROW);
  std::string blob(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  const auto at = static_cast<std::size_t>(byteIndex);
  QVERIFY(at < blob.size());
  blob[at] = static_cast<char>(blob[at] ^ 0x01);
  const std::string update = "UPDATE " + table + " SET " + column + " = ?1 WHERE " + where;
  QVERIFY(sqlite3_prepare_v2(db, update.c_str(), -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_blob(st, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  QVERIFY(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace charta::testing
