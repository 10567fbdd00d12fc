// libFuzzer target for what a FHIR import reads first: the JSON parser and
// the R4 schema validator with its pattern matcher (server/src/json_schema.h),
// on a whole Bundle and, when the input names a resource type, on that
// resource. Whatever the input, the answer is a value or errors, never a
// crash, a leak or a hang, and the same input gives the same errors.
// Built only with CHARTA_FUZZ=ON (clang); scripts/fuzz runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fhir_schema.h"
#include "json.h"

namespace {

namespace json = charta::server::json;

bool sameErrors(const std::vector<charta::server::jsonschema::SchemaError>& a,
                const std::vector<charta::server::jsonschema::SchemaError>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].path != b[i].path || a[i].message != b[i].message) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = json::parse(input);
  if (!parsed.isOk()) return 0;
  const json::Value& doc = parsed.value();
  const auto errors = charta::server::validateFhirBundle(doc, 50);
  if (!sameErrors(errors, charta::server::validateFhirBundle(doc, 50))) {
    std::fprintf(stderr, "the FHIR validator gave two answers for one input\n");
    __builtin_trap();
  }
  const json::Value* type = doc.find("resourceType");
  if (type && type->asString() && charta::server::fhirR4Schema().hasDefinition(*type->asString())) {
    (void)charta::server::fhirR4Schema().validate(doc, *type->asString(), 50);
  }
  return 0;
}
