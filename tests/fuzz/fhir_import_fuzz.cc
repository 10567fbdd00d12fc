// libFuzzer target for the FHIR R4 import (server/src/fhir_import.cc): every
// input goes through importFhirBundle into clinic "north" of a fresh SQLite
// store, which is the whole path of `charta-server import-fhir` and of the
// admin API's import: the JSON parser, the R4 schema validator, and the
// mapping from a Bundle to chart ops, each applied to its chart and stored.
// importFhirBundle's mapping needs a store (directory and known sources are
// looked up in it), so the target gives it one rather than fuzz a copy.
//
// Properties, beyond "never crashes, leaks or hangs":
//  - the import answers with a report, never an error, for an existing
//    clinic: an op the mapping makes that its own chart refuses is a bug;
//  - a refused Bundle has errors and stores no op; an applied one has none,
//    and stores exactly the ops it reports;
//  - importing the same Bundle again stores nothing (applied, 0 ops), and a
//    refused Bundle is refused again with the same errors;
//  - every imported chart, read back from the stored ops, is the chart the
//    import built (same canonical state).
// Seeds: fhir_corpus/ (one resource of each type in a one-entry Bundle) and
// fhir_import_corpus/ (small whole patient Bundles). Built only with
// CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "accounts.h"
#include "fhir_import.h"
#include "store.h"
#include "sync.h"

namespace {

using namespace charta::server;
namespace fs = std::filesystem;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "FHIR import property broken: %s\n", what.c_str());
  __builtin_trap();
}

// A scratch folder for this process's stores, removed at exit.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("charta-fhir-import-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

std::int64_t countOps(Store& store) {
  std::int64_t n = -1;
  Status s = store.read([&](Connection& c) -> Status {
    auto rows = c.query("SELECT COUNT(*) FROM ops");
    if (!rows.isOk()) return rows.status();
    n = dbInt(rows.value()[0][0]);
    return Status::ok();
  });
  if (!s.isOk()) broken("cannot count the stored ops: " + s.toString());
  return n;
}

bool sameErrors(const FhirImportReport& a, const FhirImportReport& b) {
  if (a.errors.size() != b.errors.size()) return false;
  for (std::size_t i = 0; i < a.errors.size(); ++i) {
    if (a.errors[i].path != b.errors[i].path || a.errors[i].message != b.errors[i].message) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const fs::path dir = scratch() / "store";
  std::error_code ec;
  fs::remove_all(dir, ec);

  Config config;
  config.data = dir.string();
  auto opened = Store::open(config);
  if (!opened.isOk()) broken("cannot open a scratch store: " + opened.status().toString());
  Store& store = *opened.value();
  Status made = store.write([](WriteTx& tx) { return createClinic(tx, {"north", "North clinic", 0}); });
  if (!made.isOk()) broken("cannot create the clinic: " + made.toString());

  ChartCache cache;
  auto first = importFhirBundle(store, cache, input, "north", "fuzz");
  if (!first.isOk()) broken("the import failed instead of reporting: " + first.status().toString());
  const FhirImportReport& report = first.value();
  const std::int64_t stored = countOps(store);
  if (report.applied) {
    if (!report.errors.empty()) broken("an applied Bundle has errors");
    if (stored != report.ops) {
      broken("the import reports " + std::to_string(report.ops) + " ops but stored " + std::to_string(stored));
    }
  } else {
    if (report.errors.empty()) broken("a refused Bundle has no error");
    if (stored != 0) broken("a refused Bundle stored ops");
  }

  // The same Bundle again.
  auto second = importFhirBundle(store, cache, input, "north", "fuzz");
  if (!second.isOk()) broken("the second import failed instead of reporting: " + second.status().toString());
  if (second.value().applied != report.applied) broken("the same Bundle was applied once and refused once");
  if (report.applied && second.value().ops != 0) broken("importing a Bundle again stored ops");
  if (!report.applied && !sameErrors(report, second.value())) broken("the same Bundle was refused with other errors");
  if (countOps(store) != stored) broken("importing a Bundle again changed the store");

  // Each chart as a fresh reader sees it, from the stored ops, is the one the import built.
  for (const std::string& patient : report.patients) {
    ChartCache fresh;
    Status s = store.read([&](Connection& c) -> Status {
      auto built = cache.load(c, patient);
      if (!built.isOk()) return built.status();
      auto replayed = fresh.load(c, patient);
      if (!replayed.isOk()) return replayed.status();
      if (built.value()->canonicalState() != replayed.value()->canonicalState()) {
        broken("patient " + patient + "'s stored chart differs from the one the import built");
      }
      return Status::ok();
    });
    if (!s.isOk()) broken("cannot read patient " + patient + " back: " + s.toString());
  }
  return 0;
}
