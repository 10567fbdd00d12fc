// The chart schema: what one patient's document holds and how each part merges.
//
// A chart has demographics (a fixed set of fields, each a register), entry
// collections (identifiers, allergies, problems, medications, immunisations,
// visits: add-wins sets whose entries hold registers), an append-only log of
// observations (vital signs and laboratory results) and notes.
//
// Field ids are part of the wire format (docs/FORMAT.md): never renumber them.
// Field 0 of every entry collection is its status. A field id this build does
// not know (sent by a newer peer) is kept and merged as a multi-value register.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "charta/crdt/value.h"

namespace charta::crdt {

enum class Collection : std::uint8_t {
  kDemographics = 0,  // the chart itself; entry id is null
  kIdentifiers = 1,
  kAllergies = 2,
  kProblems = 3,
  kMedications = 4,
  kImmunisations = 5,
  kVisits = 6,
  kAttachments = 7,  // photos and documents; their bytes travel apart from ops
};
// The op codec gives a collection 3 bits: 8 is the most this format can carry.
inline constexpr std::uint8_t kCollectionCount = 8;

std::string_view collectionName(Collection c);
bool isValidCollection(std::uint8_t raw);
// True for the collections whose entries are created with AddEntry.
inline bool isEntryCollection(Collection c) { return c != Collection::kDemographics; }

using FieldId = std::uint16_t;

// How concurrent writes to a field merge.
enum class RegisterKind : std::uint8_t {
  kMultiValue,     // keep every concurrent value; a write that saw them resolves it
  kForwardStatus,  // the most advanced status wins; concurrent writes are flagged
  kLastWriterWins, // non-clinical fields only: the latest write by (hlc, op id) wins
};

struct FieldSpec {
  Collection collection;
  FieldId id;
  std::string_view name;  // stable, used in conflict paths and exports
  ValueKind kind;         // the kind a write must carry (kNull is always allowed)
  bool clinical;          // false only for non-clinical fields (display preferences)
  RegisterKind reg;
};

// Status of an entry (field 0 of every entry collection). Integer values are
// part of the wire format.
enum class EntryStatus : std::int64_t {
  kActive = 1,
  kInactive = 2,
  kResolved = 3,
  kOnHold = 4,
  kCompleted = 5,
  kStopped = 6,
  kNotDone = 7,
  kEnteredInError = 8,
  kPlanned = 9,
  kInProgress = 10,
  kFinished = 11,
  kCancelled = 12,
};

std::string_view statusName(EntryStatus s);
// True when the collection allows the status.
bool statusAllowed(Collection c, std::int64_t status);
// The status a new entry of the collection starts with.
EntryStatus initialStatus(Collection c);
// True when moving to this status needs a reason (anything that ends or retracts an entry).
bool statusNeedsReason(EntryStatus s);
// Rank in the forward-only medication state machine: active < on-hold <
// completed < stopped < entered-in-error.
int medicationStatusRank(std::int64_t status);

inline constexpr FieldId kStatusField = 0;

namespace field {
// Demographics.
inline constexpr FieldId kFamilyName = 1;
inline constexpr FieldId kGivenNames = 2;
inline constexpr FieldId kBirthDate = 3;     // text YYYY-MM-DD
inline constexpr FieldId kSex = 4;           // text: female, male, other, unknown
inline constexpr FieldId kAddress = 5;
inline constexpr FieldId kPhone = 6;
inline constexpr FieldId kDeceasedDate = 7;  // text YYYY-MM-DD, null when alive
inline constexpr FieldId kNoKnownAllergies = 8;  // bool; unset means "not recorded"
inline constexpr FieldId kLanguage = 9;
inline constexpr FieldId kDisplayPreference = 10;  // non-clinical (last writer wins)

// Shared by entry collections.
inline constexpr FieldId kCode = 1;     // text "system|code"
inline constexpr FieldId kDisplay = 2;  // text shown to people
inline constexpr FieldId kNote = 3;     // free text

// Identifiers.
inline constexpr FieldId kIdentifierSystem = 10;
inline constexpr FieldId kIdentifierValue = 11;
// Allergies.
inline constexpr FieldId kReaction = 10;
inline constexpr FieldId kSeverity = 11;     // mild, moderate, severe
inline constexpr FieldId kCriticality = 12;  // low, high, unable-to-assess
inline constexpr FieldId kAllergyCategory = 13;  // food, medication, environment, biologic
// Problems.
inline constexpr FieldId kOnsetDate = 10;
inline constexpr FieldId kAbatementDate = 11;
// Medications.
inline constexpr FieldId kDose = 10;
inline constexpr FieldId kRoute = 11;
inline constexpr FieldId kFrequency = 12;
inline constexpr FieldId kStartDate = 13;
inline constexpr FieldId kEndDate = 14;
// Immunisations.
inline constexpr FieldId kOccurrenceDate = 10;
inline constexpr FieldId kLotNumber = 11;
inline constexpr FieldId kSite = 12;
inline constexpr FieldId kDoseNumber = 13;  // int
// Visits.
inline constexpr FieldId kSetting = 10;  // text: home, school, workplace, clinic
inline constexpr FieldId kStart = 11;    // int ms since epoch
inline constexpr FieldId kEnd = 12;      // int ms since epoch
inline constexpr FieldId kPractitioner = 13;
inline constexpr FieldId kReason = 14;
inline constexpr FieldId kLocation = 15;
// Attachments (a photo or a document; its bytes are a blob addressed by
// (patient, content hash), see docs/PROTOCOL.md "Attachments").
inline constexpr FieldId kAttachmentKind = 10;  // text: see attachmentKinds()
inline constexpr FieldId kContentHash = 11;     // text: lowercase hex SHA-256 of the bytes
inline constexpr FieldId kMediaType = 12;       // text: image/jpeg, image/png, application/pdf
inline constexpr FieldId kContentSize = 13;     // int: bytes
inline constexpr FieldId kThumbnailHash = 14;   // text or null: SHA-256 of a small image blob
inline constexpr FieldId kTakenAt = 15;         // int ms since epoch: taken or dated
inline constexpr FieldId kSubject = 16;         // text: "" (the patient) or "<collection>/<entry id>"
inline constexpr FieldId kFileName = 17;        // text
inline constexpr FieldId kSeries = 18;          // text or null: a wound series' label
}  // namespace field

// The kinds of attachment (field::kAttachmentKind) and the media types a
// blob may have.
std::span<const std::string_view> attachmentKinds();
std::span<const std::string_view> attachmentMediaTypes();
// True for 64 lowercase hex digits (an attachment's content address).
bool isContentHash(std::string_view s);

// The known field, or nullopt for a field id this build does not know.
std::optional<FieldSpec> findField(Collection c, FieldId id);
// Every known field of a collection, in id order.
std::span<const FieldSpec> fieldsOf(Collection c);
// How a field merges; unknown fields merge as clinical multi-value registers.
RegisterKind registerKindOf(Collection c, FieldId id);
bool isClinical(Collection c, FieldId id);

// Observations: category and the LOINC codes of the vital signs Charta charts.
enum class ObservationCategory : std::uint8_t { kVitalSign = 1, kLaboratory = 2 };

namespace loinc {
inline constexpr std::string_view kHeartRate = "8867-4";
inline constexpr std::string_view kRespiratoryRate = "9279-1";
inline constexpr std::string_view kBodyTemperature = "8310-5";
inline constexpr std::string_view kOralTemperature = "8331-1";
inline constexpr std::string_view kSystolicBp = "8480-6";
inline constexpr std::string_view kDiastolicBp = "8462-4";
inline constexpr std::string_view kBpPanel = "85354-9";
inline constexpr std::string_view kBpPanelLegacy = "55284-4";
inline constexpr std::string_view kSpO2 = "59408-5";
inline constexpr std::string_view kSpO2Pulse = "2708-6";
inline constexpr std::string_view kBodyWeight = "29463-7";
inline constexpr std::string_view kBodyHeight = "8302-2";
inline constexpr std::string_view kBmi = "39156-5";
inline constexpr std::string_view kPainScore = "72514-3";
}  // namespace loinc

struct VitalSignSpec {
  std::string_view loinc;
  std::string_view name;
  std::string_view ucumUnit;
  double plausibleLow;   // outside [low, high] is almost surely a typo
  double plausibleHigh;
};
// The vital signs Charta charts, with their UCUM units and plausible ranges.
std::span<const VitalSignSpec> vitalSigns();
std::optional<VitalSignSpec> findVitalSign(std::string_view loincCode);

}  // namespace charta::crdt
