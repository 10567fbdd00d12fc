// Clinical rules the tablet app applies before and after an edit: ages,
// plausible vital-sign values, abnormal laboratory results, medication vs
// allergy alerts, likely duplicate patients and the immunisation and
// screening schedule.
//
// Plain C++ (no Qt): the models call these and QML shows what they return,
// so every clinical decision lives here, in one place, with its tests.
// Dates are ISO-8601 text "YYYY-MM-DD"; a malformed date makes the function
// return its "unknown" answer, never crash.
//
// Thread-safety: every function is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace charta::rules {

// A calendar date; valid() is false for anything that is not a real date.
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  bool valid() const;
  friend auto operator<=>(const Date&, const Date&) = default;
};
// Parses "YYYY-MM-DD" (exactly); nullopt for anything else (2023-02-30 too).
std::optional<Date> parseDate(std::string_view text);
std::string formatDate(const Date& d);  // "YYYY-MM-DD"
// d plus a number of months (the day is clamped to the month's length).
Date addMonths(const Date& d, int months);
// Whole days from a to b (negative when b is before a).
std::int64_t daysBetween(const Date& a, const Date& b);

// Age at `today`: whole years, or for children under 2 whole months, or for
// babies under 1 month days. Label: "34 y", "18 mo", "12 d"; empty when the
// birth date is missing or invalid, or after today.
struct Age {
  int years = 0;
  int months = 0;  // whole months in total (not the remainder)
  int days = 0;    // whole days in total
  std::string label;
};
std::optional<Age> ageAt(std::string_view birthDate, std::string_view today);

// Vital-sign entry check against crdt::vitalSigns() (LOINC code, UCUM unit,
// plausible range). kImplausible when the value is outside the plausible range
// (a typo like 370 for a temperature): the message says the range and unit.
enum class VitalVerdict { kOk, kImplausible, kUnknownCode, kNotANumber };
struct VitalCheck {
  VitalVerdict verdict = VitalVerdict::kOk;
  std::string message;  // empty when kOk; plain words otherwise
};
VitalCheck checkVital(std::string_view loinc, double value);

// A laboratory value against its reference range (either bound may be missing).
enum class ResultFlag { kNormal, kLow, kHigh, kNoRange };
ResultFlag flagResult(double value, std::optional<double> low, std::optional<double> high);
std::string_view flagLabel(ResultFlag f);  // "", "L", "H", ""

// Medication vs recorded allergies. An allergy matches a medication when the
// allergen's name, or the name of a drug in the same class (a small documented
// table: penicillins, cephalosporins, sulfonamides, NSAIDs, opioids, ...)
// appears in the medication's display, case-insensitively, or when both carry
// the same code. Only allergies that are active count.
struct AllergyRecord {
  std::string display;      // "Penicillin", "Allergy to peanuts"
  std::string code;         // "system|code" or empty
  std::string criticality;  // low, high, unable-to-assess or empty
  bool active = true;
};
struct AllergyAlert {
  std::string allergy;  // the allergy's display
  std::string reason;   // "amoxicillin is a penicillin"
  bool highCriticality = false;
};
std::vector<AllergyAlert> allergyAlerts(std::string_view medicationDisplay, std::string_view medicationCode,
                                        std::span<const AllergyRecord> allergies);

// Likely duplicate: same birth date and a similar name (family and given
// names compared without case, accents of Latin letters or punctuation; a
// small edit distance or swapped family/given names count as similar).
struct PersonName {
  std::string patient;  // id, passed through
  std::string familyName;
  std::string givenNames;
  std::string birthDate;
};
std::vector<std::string> likelyDuplicates(const PersonName& candidate, std::span<const PersonName> existing);

// The immunisation and screening schedule (docs/SCHEDULE.md documents the
// table; it is an example a clinic replaces with its own). Each item is one
// dose of one vaccine (CVX code) or one screening (the code below that the app
// records the screening with), due from an age in months.
enum class ScheduleKind { kImmunisation, kScreening };
// Local codes of the screenings (system urn:charta:screening; not LOINC, see
// docs/SCHEDULE.md).
inline constexpr std::string_view kVisionScreeningCode = "vision-screening";
inline constexpr std::string_view kHearingScreeningCode = "hearing-screening";
struct ScheduleItem {
  ScheduleKind kind = ScheduleKind::kImmunisation;
  std::string code;       // CVX code ("20") or a screening code (kVisionScreeningCode)
  std::string name;       // "DTaP", "Vision screening"
  int dose = 1;           // dose number within the series
  int dueMonths = 0;      // due from this age
  int overdueMonths = 0;  // overdue after this age
};
std::span<const ScheduleItem> schedule();

// What the chart holds: immunisations given (CVX code, date) and screenings
// done (LOINC code, date).
struct GivenRecord {
  ScheduleKind kind = ScheduleKind::kImmunisation;
  std::string code;
  std::string date;
};
enum class DueState { kDone, kOverdue, kDue, kUpcoming };
struct DueItem {
  ScheduleItem item;
  DueState state = DueState::kUpcoming;
  std::string dueDate;   // birth date + dueMonths
  std::string doneDate;  // when kDone
};
// Every schedule item for this patient with its state at `today`; the n-th
// dose of a vaccine counts as done when at least n doses with that code were
// given (in date order). Items whose due age is more than 12 months after
// today are left out, and so are doses not given whose age window has closed
// (rotavirus after 8 months, Hib and PCV13 after 5 years, everything else at
// 18 years: an adult sees only the doses given). Empty for a missing or
// invalid birth date, or one after today.
std::vector<DueItem> dueItems(std::string_view birthDate, std::string_view today, std::span<const GivenRecord> given);

}  // namespace charta::rules
