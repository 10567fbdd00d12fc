#include "value_pools.h"

#include <array>
#include <string_view>

namespace charta::convergence {
namespace {

using crdt::Collection;
using crdt::Value;
using crdt::ValueKind;
namespace fld = crdt::field;

std::string pickText(Rng& rng, std::initializer_list<std::string_view> pool) {
  const auto i = rng.index(pool.size());
  return std::string(*(pool.begin() + static_cast<std::ptrdiff_t>(i)));
}

std::string date(Rng& rng) {
  return "19" + std::to_string(40 + rng.below(60)) + "-0" + std::to_string(1 + rng.below(9)) + "-1" +
         std::to_string(rng.below(10));
}

std::string textFor(Collection c, crdt::FieldId f, std::string_view name, Rng& rng) {
  if (c == Collection::kDemographics) {
    switch (f) {
      case fld::kFamilyName: return pickText(rng, {"Okafor", "Lindqvist", "Moreau", "Nakamura"});
      case fld::kGivenNames: return pickText(rng, {"Ada", "Ada Marie", "Jonas", "Mei"});
      case fld::kBirthDate: return pickText(rng, {"1948-02-29", "1948-03-01", "1984-11-05"});
      case fld::kSex: return pickText(rng, {"female", "male", "other", "unknown"});
      case fld::kDeceasedDate: return date(rng);
      case fld::kLanguage: return pickText(rng, {"en", "fr", "sv", "ja"});
      case fld::kDisplayPreference: return pickText(rng, {"large-text", "dark", "compact"});
      default: break;
    }
  }
  if (f == fld::kCode) return pickText(rng, {"http://snomed.info/sct|91936005", "http://snomed.info/sct|38341003",
                                              "http://www.nlm.nih.gov/research/umls/rxnorm|197361"});
  if (c == Collection::kAllergies && f == fld::kSeverity) return pickText(rng, {"mild", "moderate", "severe"});
  if (c == Collection::kAllergies && f == fld::kCriticality) return pickText(rng, {"low", "high", "unable-to-assess"});
  if (c == Collection::kAllergies && f == fld::kAllergyCategory)
    return pickText(rng, {"food", "medication", "environment", "biologic"});
  if (c == Collection::kVisits && f == fld::kSetting) return pickText(rng, {"home", "school", "workplace", "clinic"});
  if (c == Collection::kAttachments) {
    switch (f) {
      case fld::kContentHash:
      case fld::kThumbnailHash: return std::string(64, "0a5f"[rng.below(4)]);
      case fld::kMediaType: return pickText(rng, {"image/jpeg", "image/png", "application/pdf"});
      case fld::kAttachmentKind: return pickText(rng, {"wound-photo", "consent", "referral", "outside-result"});
      default: break;
    }
  }
  if (name.find("Date") != std::string_view::npos || name.find("date") != std::string_view::npos) return date(rng);
  return std::string(name) + "-" + std::to_string(rng.below(3));
}

}  // namespace

Value plausibleValue(Collection c, crdt::FieldId f, Rng& rng) {
  const auto spec = crdt::findField(c, f);
  if (!spec) {  // a newer peer's field: anything goes
    if (rng.chance(0.5)) return Value{std::string("future-") + std::to_string(rng.below(3))};
    return Value{static_cast<std::int64_t>(rng.below(3))};
  }
  if (rng.chance(0.04)) return Value{};
  switch (spec->kind) {
    case ValueKind::kNull: return Value{};
    case ValueKind::kText: return Value{textFor(c, f, spec->name, rng)};
    case ValueKind::kInt:
      if (c == Collection::kVisits || (c == Collection::kAttachments && f == fld::kTakenAt))
        return Value{static_cast<std::int64_t>(1709280000000 + rng.range(0, 5) * 3600000)};
      return Value{static_cast<std::int64_t>(1 + rng.below(3))};
    case ValueKind::kReal: return Value{0.5 * static_cast<double>(1 + rng.below(4))};
    case ValueKind::kBool: return Value{rng.chance(0.5)};
  }
  return Value{};
}

Value wrongKindValue(Collection c, crdt::FieldId f, Rng& rng) {
  const auto spec = crdt::findField(c, f);
  std::vector<Value> wrong;
  if (spec->kind != ValueKind::kText) wrong.emplace_back(std::string("not-a-number"));
  if (spec->kind != ValueKind::kInt) wrong.emplace_back(std::int64_t{42});
  if (spec->kind != ValueKind::kReal) wrong.emplace_back(98.6);
  if (spec->kind != ValueKind::kBool) wrong.emplace_back(true);
  return rng.pick(wrong);
}

std::vector<crdt::FieldId> writableFields(Collection c) {
  std::vector<crdt::FieldId> out;
  for (const auto& spec : crdt::fieldsOf(c)) {
    if (c != Collection::kDemographics && spec.id == crdt::kStatusField) continue;
    out.push_back(spec.id);
  }
  return out;
}

std::vector<crdt::FieldValue> initialFields(Collection c, Rng& rng) {
  std::vector<crdt::FieldValue> out;
  for (crdt::FieldId f : writableFields(c)) {
    if (f == fld::kCode || f == fld::kDisplay || rng.chance(0.3)) out.push_back({f, plausibleValue(c, f, rng)});
  }
  return out;
}

std::vector<std::int64_t> allowedStatuses(Collection c) {
  std::vector<std::int64_t> out;
  for (std::int64_t s = 1; s <= 12; ++s)
    if (crdt::statusAllowed(c, s)) out.push_back(s);
  return out;
}

std::vector<std::int64_t> disallowedStatuses(Collection c) {
  std::vector<std::int64_t> out;
  for (std::int64_t s = 0; s <= 13; ++s)
    if (!crdt::statusAllowed(c, s)) out.push_back(s);
  return out;
}

crdt::AppendObservation vitalSign(Rng& rng, std::int64_t effectiveMs) {
  const auto signs = crdt::vitalSigns();
  const auto& spec = signs[rng.index(signs.size())];
  crdt::AppendObservation obs;
  obs.category = crdt::ObservationCategory::kVitalSign;
  obs.code = std::string(spec.loinc);
  obs.value = Value{rng.real(spec.plausibleLow, spec.plausibleHigh)};
  obs.unit = std::string(spec.ucumUnit);
  obs.effectiveMs = effectiveMs;
  return obs;
}

crdt::AppendObservation labResult(Rng& rng, std::int64_t effectiveMs) {
  struct Lab {
    std::string_view code, unit;
    double low, high;
  };
  static constexpr std::array<Lab, 4> kLabs{{{"2345-7", "mg/dL", 70, 99},
                                             {"718-7", "g/dL", 12, 16},
                                             {"2160-0", "mg/dL", 0.6, 1.3},
                                             {"4548-4", "%", 4, 5.6}}};
  crdt::AppendObservation obs;
  obs.category = crdt::ObservationCategory::kLaboratory;
  obs.effectiveMs = effectiveMs;
  if (rng.chance(0.15)) {  // a coded result
    obs.code = "94500-6";
    obs.value = Value{std::string(rng.chance(0.8) ? "Not detected" : "Detected")};
    return obs;
  }
  const Lab& lab = kLabs[rng.index(kLabs.size())];
  obs.code = std::string(lab.code);
  obs.unit = std::string(lab.unit);
  obs.value = Value{rng.real(lab.low * 0.5, lab.high * 1.5)};
  obs.referenceLow = lab.low;
  obs.referenceHigh = lab.high;
  return obs;
}

std::string noteText(Rng& rng) {
  static constexpr std::array<std::string_view, 6> kTexts{
      "Home visit. Patient well, wound healing.", "BP checked, meds reviewed with daughter.",
      "Complains of dizziness on standing.",     "Flu vaccine given, no reaction after 15 min.",
      "Dressing changed. Next visit Thursday.",   "Referred to GP for review of dose."};
  return std::string(kTexts[rng.index(kTexts.size())]) + (rng.chance(0.5) ? "" : " (amended)");
}

std::string reasonText(Rng& rng) {
  static constexpr std::array<std::string_view, 4> kReasons{
      "charted on the wrong patient", "course finished", "side effects reported", "reviewed with GP"};
  return std::string(kReasons[rng.index(kReasons.size())]);
}

}  // namespace charta::convergence
