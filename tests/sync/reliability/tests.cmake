# Reliability suites: the tablet's storage failing under a replica. A SQLite
# VFS (tests/support/fault_vfs.h) that cuts the power after the N-th write or
# fills the disk, wrapped around the default one, so the library opens its
# database as usual; an in-process server takes the syncs.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
add_library(charta_test_fault_vfs STATIC ${PROJECT_SOURCE_DIR}/tests/support/fault_vfs.cc)
target_include_directories(charta_test_fault_vfs PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(charta_test_fault_vfs PUBLIC PkgConfig::SQLITE3)

# A power cut after every write (or a spread of them) of edits and syncs: no
# saved edit lost or unreadable, the file intact, each op once on the server.
# About 30 s; CHARTA_POWER_LOSS_FULL=1 (every write) takes minutes, hence the
# long limits.
charta_add_test(NAME sync_power_loss_test SOURCES reliability/power_loss_test.cpp LABELS sync fault
                LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util charta_server_db
                     charta_test_http charta_test_postgres charta_test_fault_vfs PkgConfig::SQLITE3 Threads::Threads
                TIMEOUT 1200 ENVIRONMENT QTEST_FUNCTION_TIMEOUT=1200000)
target_include_directories(sync_power_loss_test PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/server/src)

# A full disk under edits and syncs: a clear error, nothing half-written,
# everything saved and synced once space returns.
charta_add_test(NAME sync_disk_full_test SOURCES reliability/disk_full_test.cpp LABELS sync fault
                LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util charta_server_db
                     charta_test_http charta_test_postgres charta_test_fault_vfs PkgConfig::SQLITE3 Threads::Threads
                TIMEOUT 300)
target_include_directories(sync_disk_full_test PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/server/src)
