# The sync engine against a real charta-server in the same process, over
# HTTP on 127.0.0.1, with real encrypted replicas.
find_package(Threads REQUIRED)
charta_add_test(NAME sync_engine_test SOURCES engine/engine_test.cpp LABELS sync
                LIBS charta_sync charta_sim_edits charta_platform charta_server charta_server_util
                     charta_server_db charta_test_http charta_test_postgres Threads::Threads
                TIMEOUT 300)
target_include_directories(sync_engine_test PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/server/src)
