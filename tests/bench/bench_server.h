// charta-bench server: the sync server under many devices.
//
//   charta-bench server [--json] [--quick] [--seconds S] [--devices N] [--clients N]
//                       [--batch N] [--configs LIST] [--server-bin PATH] [--pg-cluster PATH]
//                       [--work-dir DIR]
//
// Starts charta-server processes itself (and a throwaway PostgreSQL cluster
// through scripts/pg-cluster), enrols and signs in the simulated devices, then
// for a fixed time lets every device push batches of new ops and pull since
// its cursor, over real HTTP on loopback, in three configurations: one server
// on SQLite, one on PostgreSQL, two server processes on one PostgreSQL
// database with the devices split between them. It reports ops ingested per
// second, client-side p50/p99 latency of pushes and pulls, and the servers'
// peak RSS, in the report format of the crdt bench (docs/BENCHMARKS.md), and
// checks afterwards that every acknowledged op can be pulled back.
//
// Exit status: 0 when every configuration ran and every check passed; 1 when
// a check failed (the report says which); 2 for usage errors and for a
// server, database or device setup that could not be made (the reason goes to
// stderr). Speed goals are reported, never enforced. Every process the bench
// started is stopped before it returns, on failure too.
#pragma once

namespace charta::bench {

// argv[0] is "server"; the rest are the options above. Returns the exit status.
int serverBenchMain(int argc, char** argv);

}  // namespace charta::bench
