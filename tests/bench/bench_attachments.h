// charta-bench attachments: photos and documents over loopback, as shares of
// what the machine can do at most.
//
//   charta-bench attachments [--json] [--quick] [--size-mb N] [--runs N] [--server-bin PATH] [--work-dir DIR]
//
// In one run, on this machine:
//  - the raw loopback copy rate: one thread writes N MiB in 1 MiB writes to
//    a TCP socket on 127.0.0.1, another reads them (no HTTP, no disk);
//  - libsodium's raw secretstream rate: N MiB sealed as 1 MiB messages
//    (crypto_secretstream_xchacha20poly1305 push), then opened (pull);
//  - upload: a tablet (the real replica and sync engine, enrolled at a real
//    charta-server on SQLite) holds an attachment of N MiB stored encrypted
//    (Replica::storeAttachment, timed apart) and SyncEngine::syncAttachments
//    sends it in 1 MiB chunks until the server holds it complete;
//  - download: a second tablet of the clinic fetches it (decrypting nothing
//    on the server, encrypting every chunk into its own store) until its
//    replica holds it whole, and reads it back identical.
// Each transfer is a new attachment (random bytes), `--runs` times (3; 2 with
// --quick); the report gives medians and the share of the slower of the two
// raw rates, against the goal of at least 50 %.
//
// Exit status: 0 when everything was measured and every check passed (the
// server held each upload complete, each download read back identical); 1 when
// a check failed; 2 for usage errors and a set-up that could not be made. The
// goal is reported, never enforced. The server is stopped before it returns.
#pragma once

namespace charta::bench {

// argv[0] is "attachments"; the rest are the options above. Returns the exit status.
int attachmentsBenchMain(int argc, char** argv);

}  // namespace charta::bench
