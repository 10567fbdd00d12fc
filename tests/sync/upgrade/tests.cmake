# The upgrade from the previous release: the current charta-server and
# charta-sim on a server store and a tablet replica that release wrote
# (tests/fixtures/previous_release, with the make.sh that made them). The
# server runs on the port the old replica recorded (see the test's header).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
charta_add_test(NAME sync_upgrade_test SOURCES upgrade/upgrade_test.cpp LABELS sync fault
                LIBS PkgConfig::SQLITE3 TIMEOUT 300
                ENVIRONMENT CHARTA_SERVER_BIN=$<TARGET_FILE:charta-server> CHARTA_SIM_BIN=$<TARGET_FILE:charta-sim>
                            CHARTA_UPGRADE_FIXTURE=${PROJECT_SOURCE_DIR}/tests/fixtures/previous_release)
add_dependencies(sync_upgrade_test charta-server charta-sim)
