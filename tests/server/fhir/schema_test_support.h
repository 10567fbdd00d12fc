// Helpers shared by the JSON Schema suites (schema_test.cpp: the FHIR R4
// schema on the sample Bundles; json_schema_test.cpp: the validator itself).
#pragma once

#include <QString>
#include <QtGlobal>
#include <string>
#include <string_view>
#include <utility>

#include "json.h"

namespace charta::test::schema {

namespace json = server::json;

inline QString q(const std::string& s) { return QString::fromStdString(s); }

inline json::Value parseOrNull(std::string_view text) {
  crdt::Result<json::Value> r = json::parse(text);
  if (!r.isOk()) {
    qWarning("parse failed: %s", r.status().toString().c_str());
    return json::Value();
  }
  return std::move(r).value();
}

}  // namespace charta::test::schema
