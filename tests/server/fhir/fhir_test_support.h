// Helpers shared by the FHIR import and export suites: the sample Bundles in
// tests/data/fhir (CHARTA_FHIR_DATA_DIR) and plain reads of FHIR JSON.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fhir_import.h"
#include "json.h"

namespace charta::test::fhir {

namespace json = server::json;

inline const std::filesystem::path kData = CHARTA_FHIR_DATA_DIR;

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The *.json files of a folder, sorted by name.
inline std::vector<std::filesystem::path> bundlesIn(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The smallest Bundle of a folder (an upload under the test server's body limit).
inline std::filesystem::path smallestIn(const std::filesystem::path& dir) {
  std::filesystem::path smallest;
  for (const auto& f : bundlesIn(dir)) {
    if (smallest.empty() || std::filesystem::file_size(f) < std::filesystem::file_size(smallest)) smallest = f;
  }
  return smallest;
}

// Synthea's directory Bundles (practitioners, organisations, locations).
inline bool isDirectoryBundle(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  return name.rfind("hospitalInformation", 0) == 0 || name.rfind("practitionerInformation", 0) == 0;
}

inline json::Value parseBundle(const std::string& text) {
  auto v = json::parse(text, server::fhirParseLimits());
  return v.isOk() ? v.value() : json::Value();
}

inline std::string str(const json::Value* v) { return v && v->asString() ? *v->asString() : std::string(); }
inline std::string str(const json::Value& o, std::string_view k) { return str(o.find(k)); }
inline const json::Array& arr(const json::Value& o, std::string_view k) {
  static const json::Array kNone;
  const json::Value* v = o.find(k);
  return v && v->asArray() ? *v->asArray() : kNone;
}

}  // namespace charta::test::fhir
