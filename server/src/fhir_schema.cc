#include "fhir_schema.h"

#include <algorithm>
#include <cstdio>
#include <string>

// The schema file, built into this object. CHARTA_FHIR_SCHEMA_FILE is its path,
// a string literal from CMake (which also rebuilds this object when the file
// changes). The trailing NUL byte is not part of the document.
#ifndef CHARTA_FHIR_SCHEMA_FILE
#error "CHARTA_FHIR_SCHEMA_FILE must name the FHIR schema file"
#endif
// clang-format off
asm(".pushsection .rodata\n"
    ".balign 16\n"
    ".globl charta_fhir_schema_begin\n"
    ".hidden charta_fhir_schema_begin\n"
    "charta_fhir_schema_begin:\n"
    ".incbin \"" CHARTA_FHIR_SCHEMA_FILE "\"\n"
    ".globl charta_fhir_schema_end\n"
    ".hidden charta_fhir_schema_end\n"
    "charta_fhir_schema_end:\n"
    ".byte 0\n"
    ".popsection\n");
// clang-format on

extern "C" {
extern const char charta_fhir_schema_begin[];
extern const char charta_fhir_schema_end[];
}

namespace charta::server {

namespace {

jsonschema::Schema compileEmbedded() {
  const std::string_view text = fhirR4SchemaText();
  // A trusted document (3.3 MB, nested 7 deep): the request-body limits
  // would only stop it by size, should it ever grow past them.
  json::ParseLimits limits;
  limits.maxBytes = std::max(limits.maxBytes, text.size());
  auto doc = json::parse(text, limits);
  if (!doc.isOk()) {
    std::fprintf(stderr, "charta: the built-in FHIR R4 schema does not parse: %s\n", doc.status().toString().c_str());
    return {};
  }
  jsonschema::CompileOptions options;
  options.definitionKind = "FHIR";
  auto schema = jsonschema::Schema::compile(doc.value(), options);
  if (!schema.isOk()) {
    std::fprintf(stderr, "charta: the built-in FHIR R4 schema does not compile: %s\n",
                 schema.status().toString().c_str());
    return {};
  }
  return std::move(schema).value();
}

}  // namespace

std::string_view fhirR4SchemaText() {
  return {charta_fhir_schema_begin, static_cast<std::size_t>(charta_fhir_schema_end - charta_fhir_schema_begin)};
}

const jsonschema::Schema& fhirR4Schema() {
  static const jsonschema::Schema schema = compileEmbedded();
  return schema;
}

std::vector<jsonschema::SchemaError> validateFhirBundle(const json::Value& bundle, std::size_t maxErrors) {
  return fhirR4Schema().validate(bundle, "Bundle", maxErrors);
}

}  // namespace charta::server
