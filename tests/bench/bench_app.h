// charta-bench app: the tablet app's cold start and chart opening.
//
//   charta-bench app [--json] [--patients N] [--years Y] [--runs R] [--probe-bin PATH] [--work-dir DIR]
//
// Makes a replica in a temporary folder as enrolment would (Argon2id at the
// real strength, PassphraseVault kModerate; the server URL a closed loopback
// port, so the sync that unlock starts fails at once), fills it with
// DemoCharts (N patients, Y years of visits, vitals, labs and notes) and picks
// the patient with the most ops as the chart to open. Then runs
// charta_app_probe (tests/bench/app_probe) R times, each a new process with
// QT_QPA_PLATFORM=offscreen, which starts the app as charta-tablet does,
// unlocks it, waits for the patient list to hold every patient and render,
// then opens the chart. Reports medians, minima and maxima over the runs of:
// spawn to main, start to the lock screen's first frame, unlock (Argon2id),
// unlock to the rendered list, cold start to the rendered list, chart opening,
// and the probe's peak RSS (from wait4); next to them, measured in this
// process, Argon2id unlock alone and reading every summary. The goals of the
// issue (cold start under 1.5 s, chart under 200 ms, peak RSS under 250 MiB)
// are reported with met true/false, never enforced. The format is in
// docs/BENCHMARKS.md ("Tablet app").
//
// Exit status: 0 when every run succeeded and every check passed (each run
// listed every patient and loaded the chart); 1 when a check failed (the
// report says which); 2 for usage errors, a missing probe, or a replica that
// could not be made (the reason goes to stderr). The temporary folder is
// removed before it returns, unless --work-dir named it.
#pragma once

namespace charta::bench {

// argv[0] is "app"; the rest are the options above. Returns the exit status.
int appBenchMain(int argc, char** argv);

}  // namespace charta::bench
