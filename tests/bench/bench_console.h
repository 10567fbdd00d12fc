// charta-bench console: the sysadmin console with a full conflict inbox.
//
//   charta-bench console [--json] [--quick] [--conflicts N] [--runs N] [--server-bin PATH]
//                        [--work-dir DIR] [--node-dir DIR] [--page-script FILE] [--skip-browser]
//
// Starts one charta-server (SQLite, demo clinic) and makes N real open
// conflicts (default 10,000; 1,000 with --quick): two enrolled devices push,
// over HTTP, concurrent edits of one field per patient (a birth date, or an
// allergy's criticality for one patient in four, so clinically significant
// conflicts lead the inbox). Then it measures:
//  - the admin API calls the console's pages make, each --runs times
//    (default 20): the inbox's first, a middle and the last page of 100, a
//    filtered page, the count the overview shows, devices, activity, clinics
//    and a page of the audit trail (median, p95, max ms and bytes);
//  - the pages themselves in headless Chromium (console_load.mjs through
//    Node.js and playwright-core from --node-dir): overview, conflict inbox,
//    devices and audit, each reloaded --runs times in a warm tab and timed
//    from the navigation's start until the page shows its data, and reached
//    --runs times from another page of the console (its own navigation).
// The goal (300 ms per page with 10,000 open conflicts) is reported, never
// enforced. Exit status: 0 when everything was measured and every check
// passed (the inbox holds every conflict, every page filled, no console
// error), 1 when a check failed, 2 for usage errors and a setup that could
// not be made. The format is in docs/BENCHMARKS.md.
#pragma once

namespace charta::bench {

// argv[0] is "console"; the rest are the options above. Returns the exit status.
int consoleBenchMain(int argc, char** argv);

}  // namespace charta::bench
