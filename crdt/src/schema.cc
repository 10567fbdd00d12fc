#include "charta/crdt/schema.h"

#include <algorithm>

namespace charta::crdt {
namespace {

using enum ValueKind;
constexpr auto kMv = RegisterKind::kMultiValue;
constexpr auto kFwd = RegisterKind::kForwardStatus;
constexpr auto kLww = RegisterKind::kLastWriterWins;

#define STATUS_FIELD(coll, reg) FieldSpec{coll, kStatusField, "status", kInt, true, reg}

constexpr FieldSpec kDemographicFields[] = {
    {Collection::kDemographics, field::kFamilyName, "familyName", kText, true, kMv},
    {Collection::kDemographics, field::kGivenNames, "givenNames", kText, true, kMv},
    {Collection::kDemographics, field::kBirthDate, "birthDate", kText, true, kMv},
    {Collection::kDemographics, field::kSex, "sex", kText, true, kMv},
    {Collection::kDemographics, field::kAddress, "address", kText, true, kMv},
    {Collection::kDemographics, field::kPhone, "phone", kText, true, kMv},
    {Collection::kDemographics, field::kDeceasedDate, "deceasedDate", kText, true, kMv},
    {Collection::kDemographics, field::kNoKnownAllergies, "noKnownAllergies", kBool, true, kMv},
    {Collection::kDemographics, field::kLanguage, "language", kText, true, kMv},
    {Collection::kDemographics, field::kDisplayPreference, "displayPreference", kText, false, kLww},
};

constexpr FieldSpec kIdentifierFields[] = {
    STATUS_FIELD(Collection::kIdentifiers, kMv),
    {Collection::kIdentifiers, field::kIdentifierSystem, "system", kText, true, kMv},
    {Collection::kIdentifiers, field::kIdentifierValue, "value", kText, true, kMv},
};

constexpr FieldSpec kAllergyFields[] = {
    STATUS_FIELD(Collection::kAllergies, kMv),
    {Collection::kAllergies, field::kCode, "code", kText, true, kMv},
    {Collection::kAllergies, field::kDisplay, "substance", kText, true, kMv},
    {Collection::kAllergies, field::kNote, "note", kText, true, kMv},
    {Collection::kAllergies, field::kReaction, "reaction", kText, true, kMv},
    {Collection::kAllergies, field::kSeverity, "severity", kText, true, kMv},
    {Collection::kAllergies, field::kCriticality, "criticality", kText, true, kMv},
    {Collection::kAllergies, field::kAllergyCategory, "category", kText, true, kMv},
};

constexpr FieldSpec kProblemFields[] = {
    STATUS_FIELD(Collection::kProblems, kMv),
    {Collection::kProblems, field::kCode, "code", kText, true, kMv},
    {Collection::kProblems, field::kDisplay, "description", kText, true, kMv},
    {Collection::kProblems, field::kNote, "note", kText, true, kMv},
    {Collection::kProblems, field::kOnsetDate, "onsetDate", kText, true, kMv},
    {Collection::kProblems, field::kAbatementDate, "abatementDate", kText, true, kMv},
};

constexpr FieldSpec kMedicationFields[] = {
    STATUS_FIELD(Collection::kMedications, kFwd),
    {Collection::kMedications, field::kCode, "code", kText, true, kMv},
    {Collection::kMedications, field::kDisplay, "medication", kText, true, kMv},
    {Collection::kMedications, field::kNote, "note", kText, true, kMv},
    {Collection::kMedications, field::kDose, "dose", kText, true, kMv},
    {Collection::kMedications, field::kRoute, "route", kText, true, kMv},
    {Collection::kMedications, field::kFrequency, "frequency", kText, true, kMv},
    {Collection::kMedications, field::kStartDate, "startDate", kText, true, kMv},
    {Collection::kMedications, field::kEndDate, "endDate", kText, true, kMv},
};

constexpr FieldSpec kImmunisationFields[] = {
    STATUS_FIELD(Collection::kImmunisations, kMv),
    {Collection::kImmunisations, field::kCode, "vaccineCode", kText, true, kMv},
    {Collection::kImmunisations, field::kDisplay, "vaccine", kText, true, kMv},
    {Collection::kImmunisations, field::kNote, "note", kText, true, kMv},
    {Collection::kImmunisations, field::kOccurrenceDate, "occurrenceDate", kText, true, kMv},
    {Collection::kImmunisations, field::kLotNumber, "lotNumber", kText, true, kMv},
    {Collection::kImmunisations, field::kSite, "site", kText, true, kMv},
    {Collection::kImmunisations, field::kDoseNumber, "doseNumber", kInt, true, kMv},
};

constexpr FieldSpec kVisitFields[] = {
    STATUS_FIELD(Collection::kVisits, kMv),
    {Collection::kVisits, field::kCode, "type", kText, true, kMv},
    {Collection::kVisits, field::kDisplay, "title", kText, true, kMv},
    {Collection::kVisits, field::kNote, "note", kText, true, kMv},
    {Collection::kVisits, field::kSetting, "setting", kText, true, kMv},
    {Collection::kVisits, field::kStart, "start", kInt, true, kMv},
    {Collection::kVisits, field::kEnd, "end", kInt, true, kMv},
    {Collection::kVisits, field::kPractitioner, "practitioner", kText, true, kMv},
    {Collection::kVisits, field::kReason, "reason", kText, true, kMv},
    {Collection::kVisits, field::kLocation, "location", kText, true, kMv},
};

constexpr FieldSpec kAttachmentFields[] = {
    STATUS_FIELD(Collection::kAttachments, kMv),
    {Collection::kAttachments, field::kDisplay, "caption", kText, true, kMv},
    {Collection::kAttachments, field::kNote, "note", kText, true, kMv},
    {Collection::kAttachments, field::kAttachmentKind, "kind", kText, true, kMv},
    {Collection::kAttachments, field::kContentHash, "contentHash", kText, true, kMv},
    {Collection::kAttachments, field::kMediaType, "mediaType", kText, true, kMv},
    {Collection::kAttachments, field::kContentSize, "size", kInt, true, kMv},
    {Collection::kAttachments, field::kThumbnailHash, "thumbnailHash", kText, true, kMv},
    {Collection::kAttachments, field::kTakenAt, "takenAt", kInt, true, kMv},
    {Collection::kAttachments, field::kSubject, "subject", kText, true, kMv},
    {Collection::kAttachments, field::kFileName, "fileName", kText, true, kMv},
    {Collection::kAttachments, field::kSeries, "series", kText, true, kMv},
};

constexpr std::string_view kAttachmentKinds[] = {"wound-photo",    "consent", "referral",
                                                 "outside-result", "photo",   "document"};
constexpr std::string_view kAttachmentMediaTypes[] = {"image/jpeg", "image/png", "application/pdf"};

#undef STATUS_FIELD

constexpr VitalSignSpec kVitalSigns[] = {
    {loinc::kHeartRate, "heart rate", "/min", 20, 250},
    {loinc::kRespiratoryRate, "respiratory rate", "/min", 4, 80},
    {loinc::kBodyTemperature, "body temperature", "Cel", 30, 44},
    {loinc::kOralTemperature, "oral temperature", "Cel", 30, 44},
    {loinc::kSystolicBp, "systolic blood pressure", "mm[Hg]", 50, 280},
    {loinc::kDiastolicBp, "diastolic blood pressure", "mm[Hg]", 20, 180},
    {loinc::kSpO2, "oxygen saturation", "%", 50, 100},
    {loinc::kSpO2Pulse, "oxygen saturation (pulse oximetry)", "%", 50, 100},
    {loinc::kBodyWeight, "body weight", "kg", 0.2, 400},
    {loinc::kBodyHeight, "body height", "cm", 20, 260},
    {loinc::kBmi, "body mass index", "kg/m2", 5, 100},
    {loinc::kPainScore, "pain severity (0-10)", "{score}", 0, 10},
};

}  // namespace

std::string_view collectionName(Collection c) {
  switch (c) {
    case Collection::kDemographics: return "demographics";
    case Collection::kIdentifiers: return "identifiers";
    case Collection::kAllergies: return "allergies";
    case Collection::kProblems: return "problems";
    case Collection::kMedications: return "medications";
    case Collection::kImmunisations: return "immunisations";
    case Collection::kVisits: return "visits";
    case Collection::kAttachments: return "attachments";
  }
  return "unknown";
}

bool isValidCollection(std::uint8_t raw) { return raw < kCollectionCount; }

std::string_view statusName(EntryStatus s) {
  switch (s) {
    case EntryStatus::kActive: return "active";
    case EntryStatus::kInactive: return "inactive";
    case EntryStatus::kResolved: return "resolved";
    case EntryStatus::kOnHold: return "on-hold";
    case EntryStatus::kCompleted: return "completed";
    case EntryStatus::kStopped: return "stopped";
    case EntryStatus::kNotDone: return "not-done";
    case EntryStatus::kEnteredInError: return "entered-in-error";
    case EntryStatus::kPlanned: return "planned";
    case EntryStatus::kInProgress: return "in-progress";
    case EntryStatus::kFinished: return "finished";
    case EntryStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool statusAllowed(Collection c, std::int64_t status) {
  using S = EntryStatus;
  const auto s = static_cast<S>(status);
  switch (c) {
    case Collection::kDemographics: return false;
    case Collection::kIdentifiers: return s == S::kActive || s == S::kInactive || s == S::kEnteredInError;
    case Collection::kAllergies:
    case Collection::kProblems:
      return s == S::kActive || s == S::kInactive || s == S::kResolved || s == S::kEnteredInError;
    case Collection::kMedications: return medicationStatusRank(status) >= 0;
    case Collection::kImmunisations: return s == S::kCompleted || s == S::kNotDone || s == S::kEnteredInError;
    case Collection::kVisits:
      return s == S::kPlanned || s == S::kInProgress || s == S::kFinished || s == S::kCancelled ||
             s == S::kEnteredInError;
    case Collection::kAttachments: return s == S::kActive || s == S::kEnteredInError;
  }
  return false;
}

EntryStatus initialStatus(Collection c) {
  switch (c) {
    case Collection::kImmunisations: return EntryStatus::kCompleted;
    case Collection::kVisits: return EntryStatus::kInProgress;
    default: return EntryStatus::kActive;
  }
}

bool statusNeedsReason(EntryStatus s) {
  switch (s) {
    case EntryStatus::kInactive:
    case EntryStatus::kResolved:
    case EntryStatus::kOnHold:
    case EntryStatus::kStopped:
    case EntryStatus::kNotDone:
    case EntryStatus::kEnteredInError:
    case EntryStatus::kCancelled:
      return true;
    default:
      return false;
  }
}

int medicationStatusRank(std::int64_t status) {
  switch (static_cast<EntryStatus>(status)) {
    case EntryStatus::kActive: return 0;
    case EntryStatus::kOnHold: return 1;
    case EntryStatus::kCompleted: return 2;
    case EntryStatus::kStopped: return 3;
    case EntryStatus::kEnteredInError: return 4;
    default: return -1;
  }
}

std::span<const FieldSpec> fieldsOf(Collection c) {
  switch (c) {
    case Collection::kDemographics: return kDemographicFields;
    case Collection::kIdentifiers: return kIdentifierFields;
    case Collection::kAllergies: return kAllergyFields;
    case Collection::kProblems: return kProblemFields;
    case Collection::kMedications: return kMedicationFields;
    case Collection::kImmunisations: return kImmunisationFields;
    case Collection::kVisits: return kVisitFields;
    case Collection::kAttachments: return kAttachmentFields;
  }
  return {};
}

std::span<const std::string_view> attachmentKinds() { return kAttachmentKinds; }
std::span<const std::string_view> attachmentMediaTypes() { return kAttachmentMediaTypes; }

bool isContentHash(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<FieldSpec> findField(Collection c, FieldId id) {
  for (const FieldSpec& spec : fieldsOf(c)) {
    if (spec.id == id) return spec;
  }
  return std::nullopt;
}

RegisterKind registerKindOf(Collection c, FieldId id) {
  const auto spec = findField(c, id);
  return spec ? spec->reg : RegisterKind::kMultiValue;
}

bool isClinical(Collection c, FieldId id) {
  const auto spec = findField(c, id);
  return spec ? spec->clinical : true;
}

std::span<const VitalSignSpec> vitalSigns() { return kVitalSigns; }

std::optional<VitalSignSpec> findVitalSign(std::string_view loincCode) {
  const auto it = std::find_if(std::begin(kVitalSigns), std::end(kVitalSigns),
                               [&](const VitalSignSpec& v) { return v.loinc == loincCode; });
  if (it == std::end(kVitalSigns)) return std::nullopt;
  return *it;
}

}  // namespace charta::crdt
