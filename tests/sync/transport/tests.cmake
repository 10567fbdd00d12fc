# The tablet's HTTP transport (sync/src/transport*.cc) against a real
# charta-server started in process on loopback (SQLite), plus scripted raw
# TCP servers for answers a correct server never gives. Included from
# tests/sync/CMakeLists.txt, so paths are relative to tests/sync.
find_package(Threads REQUIRED)
charta_add_test(NAME sync_transport_test SOURCES transport/transport_test.cpp LABELS sync
                LIBS charta_sync_transport charta_server charta_server_util charta_server_db charta_test_http
                     charta_test_postgres Threads::Threads
                TIMEOUT 300)
# api_harness.h (the in-process server) lives with the server suites and
# includes the server's json.h.
target_include_directories(sync_transport_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/server
                           ${PROJECT_SOURCE_DIR}/server/src)
