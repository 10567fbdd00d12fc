# The tablet's HTTP transport (sync/src/transport*.cc). Included from
# tests/sync/CMakeLists.txt, so paths are relative to tests/sync.

# The answers that carry ops (a pull page, a break-glass answer) read from
# their bytes by the transport's own parser (a private header of the
# library); needs no server, so it also runs in the sanitizer stage.
charta_add_test(NAME sync_transport_answers_test SOURCES transport/answers_test.cpp LABELS sync
                LIBS charta_sync_transport)
target_include_directories(sync_transport_answers_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)

# End to end against a real charta-server started in process on loopback
# (SQLite), plus scripted raw TCP servers for answers a correct server never
# gives.
if(TARGET charta_server)
  find_package(Threads REQUIRED)
  charta_add_test(NAME sync_transport_test SOURCES transport/transport_test.cpp LABELS sync
                  LIBS charta_sync_transport charta_server charta_server_util charta_server_db charta_test_http
                       charta_test_postgres Threads::Threads
                  TIMEOUT 300)
  # api_harness.h (the in-process server) lives with the server suites and
  # includes the server's json.h.
  target_include_directories(sync_transport_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/server
                             ${PROJECT_SOURCE_DIR}/server/src)
endif()
