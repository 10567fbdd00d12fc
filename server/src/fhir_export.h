#pragma once

// FHIR R4 export: one patient's chart as a Bundle (docs/FHIR.md, "Export").
//
// The Bundle holds Patient, AllergyIntolerance, Condition, MedicationStatement,
// Immunization, Encounter (the visits, with where and why), Observation
// (vital-signs profile: category, LOINC code, UCUM unit, effective time;
// laboratory results with their reference range), DocumentReference for
// signed notes, each addendum its own DocumentReference that `appends` to its
// note, and the attachments: photos as Media, documents as DocumentReference,
// with their bytes when the server holds them. Statuses map one to one (entered-in-error stays entered-in-error).
// Open conflicts are never resolved here: the shown value is exported and
// every competing value is written beside it (an entry's note, an extension
// of Patient, one attachment per version of a note).
//
// Every Bundle validates against HL7's R4 schema (fhir_schema.h); the tests
// check that for every chart they make.
//
// Thread-safety: the functions share nothing.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "charta/crdt/chart_document.h"
#include "json.h"
#include "store.h"
#include "sync.h"

namespace charta::server {

// The extension URL that carries an open conflict of a Patient field.
inline constexpr std::string_view kOpenConflictExtension = "urn:charta:fhir:open-conflict";

enum class FhirBundleType { kCollection, kSearchset };

// The bytes of a patient's attachment with this content hash, or nullopt
// when the server does not hold them whole and intact (not uploaded yet).
using AttachmentContent =
    std::function<std::optional<std::string>(const std::string& patient, const std::string& hash)>;

// The chart as a Bundle. `nowMs`: the Bundle's timestamp. `withheldNotes`:
// signed notes (their op ids as text, "r3.17") left out with their addenda:
// the patient portal's notes a clinic marked as not shared. `content`: where
// attachments' bytes come from (none: exported without their bytes).
json::Value chartToFhirBundle(const crdt::ChartDocument& doc, FhirBundleType type, std::int64_t nowMs,
                              const std::set<std::string>& withheldNotes = {}, const AttachmentContent& content = {});

// "2019-02-06T03:12:58.000Z" for milliseconds since the epoch.
std::string fhirInstant(std::int64_t ms);

// Reads the patients' charts (each must exist and, when `clinic` is not empty,
// belong to it: kNotFound otherwise) and audits each export as chart.export
// by `actor` from `address`. Returns one Bundle per patient, in order, with
// the attachments' bytes from `content` (none: without them).
crdt::Result<std::vector<json::Value>> exportPatients(Store& store, ChartCache& cache,
                                                      const std::vector<std::string>& patients,
                                                      const std::string& clinic, FhirBundleType type,
                                                      const std::string& actor, const std::string& address,
                                                      const AttachmentContent& content = {});

// The patients of a clinic, in id order.
crdt::Result<std::vector<std::string>> patientsOfClinic(Store& store, const std::string& clinic);

}  // namespace charta::server
