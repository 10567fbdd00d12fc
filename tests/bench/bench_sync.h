// charta-bench sync: the tablet's sync engine end to end, side by side with
// PouchDB.
//
//   charta-bench sync [--json] [--quick] [--skip-peer] [--server-bin PATH] [--work-dir DIR]
//
// Starts one charta-server (SQLite, demo clinic) and fills the clinic with
// patients x ops made in memory (OpFactory + ChartDocument, the mix of
// clinical edits RandomEditor makes) and pushed by one enrolled device. Then,
// over real HTTP on loopback, with the real replica (charta_sync):
//  (a) cold sync: a fresh device enrols, and its first syncOnce() is timed
//      until the replica holds every patient (3 fresh devices);
//  (b) incremental sync: 100 edits made offline on a synced device while
//      another device pushes about as many, then one syncOnce() (5 rounds):
//      time, requests, bytes on the wire per op;
//  (c) the encrypted store against the same store with encryption off
//      (ReplicaOptions::unencryptedForBenchmark), interleaved: writing the
//      same pulled pages, reading every chart and summary;
//  (d) unlock (Replica::open + unlock, Argon2id at the real default).
// Then, in the same run, PouchDB pulls the same chart data (one document per
// chart entry) from an express-pouchdb server on loopback
// (node-pouch/pouch_peer.mjs), and the report gives the ratios for (a) and
// (b). The format is in docs/BENCHMARKS.md.
//
// Exit status: 0 when everything was measured and every correctness check
// passed; 1 when a check failed (the report says which); 2 for usage errors,
// and for a server, device, Node.js or peer setup that could not be made (the
// reason goes to stderr). Speed goals are reported, never enforced. Every
// process the bench starts is stopped before it returns, on failure too.
#pragma once

namespace charta::bench {

// argv[0] is "sync"; the rest are the options above. Returns the exit status.
int syncBenchMain(int argc, char** argv);

}  // namespace charta::bench
