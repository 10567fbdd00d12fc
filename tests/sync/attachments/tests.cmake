# Attachments on the tablet: the encrypted blob store on real SQLite files
# and real libsodium (no server). Included from tests/sync/CMakeLists.txt:
# SOURCES are relative to tests/sync/.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
charta_add_test(NAME sync_attachment_store_test SOURCES attachments/attachment_store_test.cpp LABELS sync security
                LIBS charta_sync charta_platform PkgConfig::SQLITE3 TIMEOUT 300)

# The engine's attachment step against an in-memory server of the attachment
# protocol (transfers cut part-way, restarts, the budget, refusals).
charta_add_test(NAME sync_attachment_transfer_test SOURCES attachments/attachment_transfer_test.cpp LABELS sync
                LIBS charta_sync charta_platform TIMEOUT 300)

# Over real HTTP to a real charta-server, through the fault proxy (connections
# cut mid-body), with tablets restarting between syncs.
if(TARGET charta_server)
  find_package(Threads REQUIRED)
  charta_add_test(NAME sync_attachment_sync_test SOURCES attachments/attachment_sync_test.cpp LABELS sync fault
                  LIBS charta_sync charta_platform charta_server charta_server_util charta_server_db charta_test_http
                       charta_test_postgres charta_test_fault_proxy Threads::Threads
                  TIMEOUT 600)
  target_include_directories(sync_attachment_sync_test PRIVATE ${PROJECT_SOURCE_DIR}/tests
                             ${PROJECT_SOURCE_DIR}/server/src)
endif()
