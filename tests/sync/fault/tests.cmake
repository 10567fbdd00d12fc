# Fault suites. charta_test_fault_proxy: a fault-injecting TCP proxy on
# 127.0.0.1 (tests/support/fault_proxy.h) that sits between tablet clients and a
# real server. Plain POSIX sockets and threads, so any suite can link it.
find_package(Threads REQUIRED)
add_library(charta_test_fault_proxy STATIC ${PROJECT_SOURCE_DIR}/tests/support/fault_proxy.cc)
target_include_directories(charta_test_fault_proxy PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(charta_test_fault_proxy PUBLIC Threads::Threads)

# The proxy itself, in front of the server's HTTP adapter.
charta_add_test(NAME sync_fault_proxy_test SOURCES fault/fault_proxy_test.cpp LABELS sync fault
                LIBS charta_test_fault_proxy charta_server_http charta_test_http Threads::Threads TIMEOUT 300)

# Tablets (in process, and charta-sim processes killed with SIGKILL) syncing
# through the proxy with a real server: convergence, 0 lost, 0 stored twice.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
charta_add_test(NAME sync_fault_test SOURCES fault/sync_fault_test.cpp LABELS sync fault
                LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util charta_server_db
                     charta_test_http charta_test_postgres charta_test_fault_proxy PkgConfig::SQLITE3 Threads::Threads
                TIMEOUT 600 ENVIRONMENT CHARTA_SIM_BIN=$<TARGET_FILE:charta-sim>)
target_include_directories(sync_fault_test PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/server/src)
add_dependencies(sync_fault_test charta-sim)

# Five tablets with clocks from 1970 to a year ahead, each behind its own
# faulty proxy: one server on SQLite, or two on one PostgreSQL database.
include(${PROJECT_SOURCE_DIR}/tests/server/postgres_fixture.cmake)
foreach(backend sqlite postgres)
  charta_add_test(NAME sync_clock_chaos_${backend}_test SOURCES fault/clock_chaos_test.cpp LABELS sync fault
                  LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util charta_server_db
                       charta_test_http charta_test_postgres charta_test_fault_proxy PkgConfig::SQLITE3 Threads::Threads
                  TIMEOUT 600)
  target_include_directories(sync_clock_chaos_${backend}_test PRIVATE ${PROJECT_SOURCE_DIR}/tests
                             ${PROJECT_SOURCE_DIR}/server/src)
endforeach()
target_compile_definitions(sync_clock_chaos_postgres_test PRIVATE CHARTA_CHAOS_TEST_POSTGRES=1)
charta_requires_postgres(sync_clock_chaos_postgres_test)

# The server restored from a backup 1,000 ops old while tablets keep working.
foreach(backend sqlite postgres)
  charta_add_test(NAME sync_restore_${backend}_test SOURCES fault/restore_test.cpp LABELS sync fault
                  LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util charta_server_db
                       charta_test_http charta_test_postgres PkgConfig::SQLITE3 Threads::Threads
                  TIMEOUT 600)
  target_include_directories(sync_restore_${backend}_test PRIVATE ${PROJECT_SOURCE_DIR}/tests
                             ${PROJECT_SOURCE_DIR}/server/src)
endforeach()
target_compile_definitions(sync_restore_postgres_test PRIVATE CHARTA_RESTORE_TEST_POSTGRES=1)
charta_requires_postgres(sync_restore_postgres_test)
