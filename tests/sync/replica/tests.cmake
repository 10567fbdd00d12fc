# The encrypted replica on real SQLite files (the test also opens the file
# directly, as someone holding a stolen tablet would).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
charta_add_test(NAME sync_replica_test SOURCES replica/replica_test.cpp LABELS sync security
                LIBS charta_sync charta_sim_edits charta_platform PkgConfig::SQLITE3 TIMEOUT 300)

# Chart checkpoints: the codec (a private header of the library) and the
# replica opening charts from them.
charta_add_test(NAME sync_checkpoint_test SOURCES replica/checkpoint_test.cpp LABELS sync security
                LIBS charta_sync charta_sim_edits charta_platform PkgConfig::SQLITE3 TIMEOUT 300)
target_include_directories(sync_checkpoint_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)

# Tampering at scale: bit flips in every sealed column, cells swapped between
# patients, old rows put back, the file cut short (CHARTA_TAMPER_TRIALS).
charta_add_test(NAME sync_tamper_scale_test SOURCES replica/tamper_scale_test.cpp LABELS sync security
                LIBS charta_sync charta_sim_edits charta_platform PkgConfig::SQLITE3 TIMEOUT 300)
