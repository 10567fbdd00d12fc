# Replica::editBatch (all or nothing) and the demo clinic's hand-made charts,
# on real SQLite files; no server.
charta_add_test(NAME sync_demo_charts_test SOURCES demo/demo_charts_test.cpp LABELS sync
                LIBS charta_sync charta_sim_edits charta_platform TIMEOUT 300)
