#pragma once

// JSON Schema validation (the draft-06 subset that HL7's FHIR schema uses) for
// documents the server receives: a schema is compiled once into a tree of
// nodes, then validate() walks a json::Value against one of its definitions
// and returns every problem with the JSON path where it is.
//
// Supported keywords: $ref ("#" and "#/definitions/NAME" only), type, items
// (one schema), properties, additionalProperties (boolean or schema),
// required, enum, const, pattern, oneOf, and OpenAPI's discriminator
// ({"propertyName": ..., "mapping": {...}}) next to a oneOf. true and false
// are schemas. Annotations (description, title, $schema, id, $id, $comment,
// default, examples, format, and definitions below the root) are ignored;
// any other keyword fails compile() rather than being silently skipped.
//
// Semantics follow draft-06; three points to know:
//  - A schema with properties, additionalProperties or required and no type
//    accepts only objects. HL7's schema leaves "type": "object" out of every
//    complex type, which would otherwise let an array or a string stand in
//    for a CodeableConcept.
//  - A oneOf whose branches all name themselves with a const on one property
//    (every FHIR resource has "resourceType": {"const": "Patient"}) is
//    dispatched on that property, as if it had a discriminator: the value is
//    checked against that one branch, and a missing or unknown name is one
//    error. Other oneOfs are tried branch by branch.
//  - pattern is an ECMA-262 regular expression, searched for (not anchored),
//    and applies to strings only, as draft-06 says: "pattern" next to
//    "type": "number" is ignored. Patterns run on a Thompson NFA, linear in
//    the length of the string and without recursion, so a 4 MB string is as
//    safe as a short one. Supported: literals, ., [classes] with ranges and
//    negation, \d \D \s \S \w \W (ASCII digits and word characters, Unicode
//    white space), ^ $, groups ( ) (?: ), | and the quantifiers ? * + {n}
//    {n,} {n,m} (greedy or lazy). Back-references and look-arounds fail
//    compile(). Unlike Python's re, $ does not match before a final "\n",
//    and \s does not match U+001C..U+001F.
//
// Messages are for a sysadmin reading a refused upload: "unknown property
// 'context'", "missing required property 'status'", "expected a string,
// found a number", "'complete' is not one of claim, preauthorization,
// predetermination", "does not match the pattern of a FHIR date". Enum and
// const messages quote the offending value; pattern messages never do, since
// a free-text field may hold clinical notes. Values and keys in messages and
// paths are cut to about 60 bytes.
//
// Thread-safety: a compiled Schema is immutable; validate() may run
// concurrently from any number of threads. Copies share the compiled tree.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "charta/crdt/status.h"
#include "json.h"

namespace charta::server::jsonschema {

namespace detail {
struct CompiledSchema;
}  // namespace detail

struct SchemaError {
  std::string path;     // "entry[3].resource.context"; "" for the value itself
  std::string message;  // "unknown property 'context'"
};

struct CompileOptions {
  // Names definitions in pattern messages: with "FHIR", "does not match the
  // pattern of a FHIR date"; empty, "does not match the pattern of
  // definition 'date'". A pattern written inline is named after the
  // definitions that carry the same pattern and type, if any.
  std::string definitionKind;
};

class Schema {
 public:
  // An empty schema: validate() refuses everything with one error.
  Schema() = default;

  // Compiles a schema document. kInvalidArgument naming the schema location
  // ("#/definitions/Patient/properties/name") for an unsupported keyword, a
  // $ref that does not resolve (or only to itself), or a pattern outside the
  // supported subset.
  static crdt::Result<Schema> compile(const json::Value& schemaDoc, const CompileOptions& options = {});

  // False for an empty schema.
  bool isCompiled() const { return m_impl != nullptr; }
  // Whether #/definitions/<name> exists.
  bool hasDefinition(std::string_view name) const;

  // Validates `v` against #/definitions/<definition>, or against the root
  // schema when `definition` is empty. Returns at most max(maxErrors, 1)
  // errors, in document order; none means valid. An unknown definition is one
  // error with an empty path.
  std::vector<SchemaError> validate(const json::Value& v, std::string_view definition,
                                    std::size_t maxErrors = 100) const;

 private:
  explicit Schema(std::shared_ptr<const detail::CompiledSchema> impl) : m_impl(std::move(impl)) {}

  std::shared_ptr<const detail::CompiledSchema> m_impl;
};

}  // namespace charta::server::jsonschema
