// PostgreSQL for test suites: each call makes a fresh, empty database in the
// throwaway cluster that scripts/pg-cluster started for this ctest run.
//
// A suite that needs PostgreSQL is registered with charta_requires_postgres
// (tests/server/postgres_fixture.cmake), which starts the cluster first and
// sets CHARTA_TEST_PG_STATE to its state folder.
#pragma once

#include <string>

namespace charta::test {

// Creates a database with a new unique name and returns a libpq connection
// string for it. On failure returns "" and sets *error (when given) to a
// message fit for QFAIL: PostgreSQL suites fail, never skip, without a cluster.
// Thread-safe.
std::string newPostgresDatabase(std::string* error);

// Like newPostgresDatabase, with the database's files in a new tablespace at
// `location`: an existing, empty folder that the cluster's system user owns
// (on a small filesystem, say). Creating a tablespace needs the cluster's
// superuser, which the test cluster's conninfo is.
std::string newPostgresDatabaseIn(const std::string& location, std::string* error);

// Drops a database made above (its connections are ended first) and, when
// `location` is given, the tablespace at that folder, so that its files are
// gone and its filesystem can be unmounted. Returns false and sets *error on
// failure.
bool dropPostgresDatabase(const std::string& conninfo, const std::string& location, std::string* error);

}  // namespace charta::test
