#pragma once

// FHIR R4 validation for bundles the server is given: HL7's published JSON
// schema for FHIR R4 (4.0.1), embedded in the binary when it is built from
// server/fhir/fhir.schema.json, so there is no file to find or lose at run
// time. It is parsed and compiled on first use.
//
// What the schema checks: the shape of every resource (known properties only,
// JSON types, required properties, value sets bound as enums, and the
// patterns of primitive types such as date, dateTime, id and uri). What it
// cannot check: cardinalities other than "required", invariants, references
// between resources, terminology beyond the enums in the schema. See
// json_schema.h for the validator and its messages.
//
// Thread-safety: everything here may be called concurrently.

#include <cstddef>
#include <string_view>
#include <vector>

#include "json.h"
#include "json_schema.h"

namespace charta::server {

// The compiled schema, built once (thread-safe). If the embedded document
// ever failed to compile (a broken build), it is an empty Schema that refuses
// everything, with the reason on stderr.
const jsonschema::Schema& fhirR4Schema();

// The embedded schema document as it was built in (UTF-8 JSON).
std::string_view fhirR4SchemaText();

// Checks a FHIR R4 Bundle against #/definitions/Bundle, which reaches each
// entry's resource through the oneOf over all resource types (picked by
// resourceType). Returns at most max(maxErrors, 1) errors, paths like
// "entry[3].resource.context"; none means valid.
std::vector<jsonschema::SchemaError> validateFhirBundle(const json::Value& bundle, std::size_t maxErrors = 100);

}  // namespace charta::server
