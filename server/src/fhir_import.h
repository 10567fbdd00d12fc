#pragma once

// FHIR R4 import: patient Bundles in, chart ops out (docs/FHIR.md).
//
// A Bundle is checked whole before anything is stored: against HL7's R4 JSON
// schema (fhir_schema.h) and then for what Charta needs (a Patient for every
// charted resource, dates it can read). A refused Bundle changes nothing and
// its report lists every error with its JSON path.
//
// An accepted Bundle becomes ops authored by the import identity
// (kFhirImportUser) on the server's replica, stored in one write transaction
// with their audit events, so tablets pull them like any edit. Each charted
// resource is remembered by its source key (resource type and logical id) in
// table fhir_sources: importing the same Bundle again stores nothing.
//
// Directory resources (Practitioner, PractitionerRole, Organization, Location)
// are remembered by their ids and identifiers in table fhir_directory, so
// that conditional references such as `Practitioner?identifier=SYSTEM|VALUE`
// in Bundles imported later resolve to a name. A reference that resolves
// nowhere is reported, never guessed.
//
// Thread-safety: none beyond Store's; one import at a time per ChartCache.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "charta/crdt/status.h"
#include "json.h"
#include "store.h"
#include "sync.h"

namespace charta::server {

// The author of every imported op: the chart shows it as the import.
inline constexpr std::string_view kFhirImportUser = "fhir-import";

// A refused Bundle's report lists at most this many schema errors.
inline constexpr std::size_t kMaxFhirErrors = 1000;

struct FhirError {
  std::string path;  // "entry[12].resource.context", "" for the whole Bundle
  std::string message;
};

struct FhirImportReport {
  bool applied = false;           // false: refused, nothing stored
  std::vector<FhirError> errors;  // why it was refused
  std::string bundleType;
  std::int64_t resources = 0;                     // entries read
  std::int64_t ops = 0;                           // ops stored
  std::map<std::string, std::int64_t> imported;   // resource type -> charted now
  std::map<std::string, std::int64_t> unchanged;  // resource type -> imported before (idempotent)
  std::map<std::string, std::int64_t> directory;  // resource type -> directory entries remembered
  // resource type -> reason -> count: what Charta does not chart, and why.
  std::map<std::string, std::map<std::string, std::int64_t>> skipped;
  std::vector<std::string> unresolved;  // references that resolved nowhere (distinct)
  std::vector<std::string> patients;    // Charta patient ids charted in this Bundle
};

// Imports one Bundle (JSON text) into `clinic`. kNotFound when the clinic does
// not exist; a Bundle that is not JSON, not valid R4 or not importable comes
// back as a report with applied == false and its errors (the Result is ok);
// the refusal is audited too (fhir.import_refused). `actor` is who asked:
// "shell:NAME" or a user id, from `address` (audit).
crdt::Result<FhirImportReport> importFhirBundle(Store& store, ChartCache& cache, std::string_view text,
                                                const std::string& clinic, const std::string& actor,
                                                const std::string& address = {});

// Limits for parsing a Bundle: larger than an API request's (a patient's
// whole history with its notes), still bounded.
json::ParseLimits fhirParseLimits();

// The report as JSON (the admin API's answer and `import-fhir --json`).
json::Value fhirReportToJson(const FhirImportReport& report);

// Milliseconds since the epoch of a FHIR date, dateTime or instant
// (YYYY, YYYY-MM, YYYY-MM-DD, or with a time and a zone); a date without a
// time is its first instant in UTC. nullopt when it is not one.
std::optional<std::int64_t> fhirInstantMs(std::string_view text);

}  // namespace charta::server
