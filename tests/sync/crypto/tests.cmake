# --- crypto (the libsodium adapter and the desktop key vault) ---
# Included from tests/sync/CMakeLists.txt: SOURCES are relative to tests/sync/.
charta_add_test(NAME sync_crypto_test SOURCES crypto/crypto_test.cpp LABELS sync security
                LIBS charta_sync_crypto)
charta_add_test(NAME sync_passphrase_vault_test SOURCES crypto/passphrase_vault_test.cpp LABELS sync security
                LIBS charta_sync_crypto charta_platform)
