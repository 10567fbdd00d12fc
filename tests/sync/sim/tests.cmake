# charta-sim run as a program against a real server in the test's process.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
charta_add_test(NAME sync_sim_cli_test SOURCES sim/sim_cli_test.cpp LABELS sync
                LIBS charta_server charta_server_util charta_server_db charta_test_http charta_test_postgres
                     PkgConfig::SQLITE3 Threads::Threads
                TIMEOUT 300 ENVIRONMENT CHARTA_SIM_BIN=$<TARGET_FILE:charta-sim>)
target_include_directories(sync_sim_cli_test PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/server/src)
add_dependencies(sync_sim_cli_test charta-sim)
