// The tablet app's clinical rules: dates and ages, vital-sign plausibility,
// laboratory flags, medication vs allergy alerts, likely duplicate patients
// and the immunisation and screening schedule.
#include "charta/crdt/clinical_rules.h"

#include <QtTest>
#include <cmath>
#include <limits>

#include "charta/crdt/schema.h"

using namespace charta::rules;

namespace {

std::vector<AllergyAlert> alertsFor(std::string_view medication, std::vector<AllergyRecord> allergies,
                                    std::string_view code = {}) {
  return allergyAlerts(medication, code, allergies);
}

const DueItem* findDue(const std::vector<DueItem>& items, std::string_view code, int dose) {
  for (const DueItem& d : items) {
    if (d.item.code == code && d.item.dose == dose) return &d;
  }
  return nullptr;
}

}  // namespace

class ClinicalRulesTest : public QObject {
  Q_OBJECT

 private slots:
  void parsesOnlyRealDates() {
    const auto d = parseDate("2024-02-29");
    QVERIFY(d.has_value());
    QCOMPARE(d->year, 2024);
    QCOMPARE(d->month, 2);
    QCOMPARE(d->day, 29);
    QVERIFY(!parseDate("2023-02-29"));  // not a leap year
    QVERIFY(!parseDate("2023-02-30"));
    QVERIFY(!parseDate("2023-04-31"));
    QVERIFY(!parseDate("2023-13-01"));
    QVERIFY(!parseDate("2023-00-10"));
    QVERIFY(!parseDate("0000-01-01"));
    QVERIFY(parseDate("2000-02-29"));   // divisible by 400
    QVERIFY(!parseDate("1900-02-29"));  // divisible by 100 only
    QVERIFY(!parseDate("2023-1-01"));
    QVERIFY(!parseDate("2023-01-01T00:00"));
    QVERIFY(!parseDate(" 2023-01-01"));
    QVERIFY(!parseDate("2023/01/01"));
    QVERIFY(!parseDate("+023-01-01"));
    QVERIFY(!parseDate(""));
    QVERIFY(!(Date{2023, 2, 29}.valid()));
    QVERIFY((Date{2024, 12, 31}.valid()));
    QCOMPARE(formatDate(Date{987, 3, 4}), std::string("0987-03-04"));
  }

  void addsMonthsAndCountsDays() {
    QCOMPARE(formatDate(addMonths(Date{2024, 1, 31}, 1)), std::string("2024-02-29"));
    QCOMPARE(formatDate(addMonths(Date{2023, 1, 31}, 1)), std::string("2023-02-28"));
    QCOMPARE(formatDate(addMonths(Date{2023, 11, 15}, 3)), std::string("2024-02-15"));
    QCOMPARE(formatDate(addMonths(Date{2024, 2, 29}, 12)), std::string("2025-02-28"));
    QCOMPARE(formatDate(addMonths(Date{2024, 3, 31}, -1)), std::string("2024-02-29"));
    QCOMPARE(formatDate(addMonths(Date{2024, 1, 10}, -13)), std::string("2022-12-10"));
    QCOMPARE(daysBetween(Date{2024, 1, 1}, Date{2025, 1, 1}), std::int64_t{366});
    QCOMPARE(daysBetween(Date{2023, 1, 1}, Date{2024, 1, 1}), std::int64_t{365});
    QCOMPARE(daysBetween(Date{2024, 3, 1}, Date{2024, 2, 28}), std::int64_t{-2});
    QCOMPARE(daysBetween(Date{1970, 1, 1}, Date{2000, 3, 1}), std::int64_t{11017});
  }

  void agesInYearsMonthsOrDays() {
    auto a = ageAt("1990-06-15", "2024-06-14");
    QVERIFY(a);
    QCOMPARE(a->years, 33);
    QCOMPARE(a->label, std::string("33 y"));
    a = ageAt("1990-06-15", "2024-06-15");
    QCOMPARE(a->label, std::string("34 y"));
    a = ageAt("2022-12-01", "2024-06-01");
    QCOMPARE(a->months, 18);
    QCOMPARE(a->years, 1);
    QCOMPARE(a->label, std::string("18 mo"));
    a = ageAt("2022-06-02", "2024-06-01");  // a day before the second birthday
    QCOMPARE(a->label, std::string("23 mo"));
    a = ageAt("2022-06-01", "2024-06-01");
    QCOMPARE(a->label, std::string("2 y"));
    a = ageAt("2024-05-20", "2024-06-01");
    QCOMPARE(a->days, 12);
    QCOMPARE(a->months, 0);
    QCOMPARE(a->label, std::string("12 d"));
    a = ageAt("2024-06-01", "2024-06-01");
    QCOMPARE(a->label, std::string("0 d"));
    a = ageAt("2024-05-01", "2024-06-01");
    QCOMPARE(a->label, std::string("1 mo"));
  }

  void leapDayBirthdays() {
    // Born on 29 February: the birthday is 28 February in common years
    // (the same rule as addMonths, so ages and due dates agree).
    auto a = ageAt("2020-02-29", "2021-02-27");
    QVERIFY(a);
    QCOMPARE(a->months, 11);
    a = ageAt("2020-02-29", "2021-02-28");
    QCOMPARE(a->months, 12);
    QCOMPARE(a->label, std::string("12 mo"));
    a = ageAt("2020-02-29", "2024-02-28");
    QCOMPARE(a->years, 3);
    a = ageAt("2020-02-29", "2024-02-29");
    QCOMPARE(a->years, 4);
    QCOMPARE(a->label, std::string("4 y"));
    // A month after 31 January is the end of February.
    a = ageAt("2024-01-31", "2024-02-28");
    QCOMPARE(a->label, std::string("28 d"));
    a = ageAt("2024-01-31", "2024-02-29");
    QCOMPARE(a->label, std::string("1 mo"));
  }

  void ageIsEmptyForBadOrFutureBirthDates() {
    QVERIFY(!ageAt("", "2024-06-01"));
    QVERIFY(!ageAt("2023-02-30", "2024-06-01"));
    QVERIFY(!ageAt("1990-06-15", "not a date"));
    QVERIFY(!ageAt("2024-06-02", "2024-06-01"));  // born tomorrow
  }

  void plausibleVitalSigns() {
    const std::string temp(charta::crdt::loinc::kBodyTemperature);
    QVERIFY(checkVital(temp, 37.0).verdict == VitalVerdict::kOk);
    QVERIFY(checkVital(temp, 37.0).message.empty());
    const VitalCheck typo = checkVital(temp, 370);
    QVERIFY(typo.verdict == VitalVerdict::kImplausible);
    const auto spec = charta::crdt::findVitalSign(temp);
    QVERIFY(spec);
    QVERIFY2(typo.message.find("370") != std::string::npos, typo.message.c_str());
    QVERIFY2(typo.message.find("Cel") != std::string::npos, typo.message.c_str());
    QVERIFY2(typo.message.find(std::string(spec->name)) != std::string::npos, typo.message.c_str());
    QVERIFY2(typo.message.find("typo") != std::string::npos, typo.message.c_str());
    // The bounds themselves are plausible.
    QVERIFY(checkVital(temp, spec->plausibleLow).verdict == VitalVerdict::kOk);
    QVERIFY(checkVital(temp, spec->plausibleHigh).verdict == VitalVerdict::kOk);
    QVERIFY(checkVital(temp, 3.7).verdict == VitalVerdict::kImplausible);
    const std::string pulse(charta::crdt::loinc::kHeartRate);
    QVERIFY(checkVital(pulse, 72).verdict == VitalVerdict::kOk);
    QVERIFY(checkVital(pulse, 720).verdict == VitalVerdict::kImplausible);
    QVERIFY(checkVital(std::string(charta::crdt::loinc::kSystolicBp), 128).verdict == VitalVerdict::kOk);
    QVERIFY(checkVital(std::string(charta::crdt::loinc::kSpO2), 101).verdict == VitalVerdict::kImplausible);
  }

  void vitalSignsThatAreNotNumbersOrUnknown() {
    const std::string temp(charta::crdt::loinc::kBodyTemperature);
    QVERIFY(checkVital(temp, std::numeric_limits<double>::quiet_NaN()).verdict == VitalVerdict::kNotANumber);
    QVERIFY(checkVital(temp, std::numeric_limits<double>::infinity()).verdict == VitalVerdict::kNotANumber);
    QVERIFY(checkVital(temp, -std::numeric_limits<double>::infinity()).verdict == VitalVerdict::kNotANumber);
    const VitalCheck unknown = checkVital("12345-6", 1.0);
    QVERIFY(unknown.verdict == VitalVerdict::kUnknownCode);
    QVERIFY(unknown.message.find("12345-6") != std::string::npos);
    QVERIFY(checkVital("", 1.0).verdict == VitalVerdict::kUnknownCode);
  }

  void flagsLaboratoryResults() {
    QVERIFY(flagResult(5.2, 4.0, 5.6) == ResultFlag::kNormal);
    QVERIFY(flagResult(7.8, 4.0, 5.6) == ResultFlag::kHigh);
    QVERIFY(flagResult(3.1, 3.5, 5.1) == ResultFlag::kLow);
    QVERIFY(flagResult(5.6, 4.0, 5.6) == ResultFlag::kNormal);  // bounds are in range
    QVERIFY(flagResult(4.0, 4.0, 5.6) == ResultFlag::kNormal);
    QVERIFY(flagResult(130, std::nullopt, 100) == ResultFlag::kHigh);
    QVERIFY(flagResult(50, std::nullopt, 100) == ResultFlag::kNormal);
    QVERIFY(flagResult(50, 60, std::nullopt) == ResultFlag::kLow);
    QVERIFY(flagResult(50, std::nullopt, std::nullopt) == ResultFlag::kNoRange);
    QVERIFY(flagResult(std::nan(""), 1, 2) == ResultFlag::kNoRange);
    QCOMPARE(flagLabel(ResultFlag::kHigh), std::string_view("H"));
    QCOMPARE(flagLabel(ResultFlag::kLow), std::string_view("L"));
    QCOMPARE(flagLabel(ResultFlag::kNormal), std::string_view(""));
    QCOMPARE(flagLabel(ResultFlag::kNoRange), std::string_view(""));
  }

  void penicillinAllergyMatchesAmoxicillin() {
    auto alerts = alertsFor("Amoxicillin 250 mg", {{"Penicillin", "", "high", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    QCOMPARE(alerts[0].allergy, std::string("Penicillin"));
    QVERIFY2(alerts[0].reason.find("amoxicillin") != std::string::npos, alerts[0].reason.c_str());
    QVERIFY2(alerts[0].reason.find("penicillin") != std::string::npos, alerts[0].reason.c_str());
    QVERIFY(alerts[0].highCriticality);
    // Synthea-style displays name the class inside longer text.
    alerts = alertsFor("Amoxicillin 250 mg", {{"Allergy to penicillin", "", "low", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    QVERIFY(!alerts[0].highCriticality);
    alerts = alertsFor("Flucloxacillin 500 mg capsule", {{"Penicillin V", "", "", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    // An allergy to one penicillin covers the class.
    alerts = alertsFor("Piperacillin / tazobactam 4.5 g", {{"Amoxicillin", "", "", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    // The softer cross-reactivity alert for a cephalosporin.
    alerts = alertsFor("Cefalexin 500 mg", {{"Penicillin", "", "high", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    QVERIFY2(alerts[0].reason.find("cephalosporin") != std::string::npos, alerts[0].reason.c_str());
    // Not a penicillin.
    QVERIFY(alertsFor("Metformin 500 mg", {{"Penicillin", "", "high", true}}).empty());
  }

  void directNameAndCodeMatches() {
    auto alerts = alertsFor("Amoxicillin 250 mg", {{"Amoxicillin", "", "", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    alerts = alertsFor("AMOXICILLIN 250 MG", {{"amoxicillin", "", "", true}});
    QCOMPARE(alerts.size(), std::size_t{1});
    // Same code, whatever the names say.
    alerts = alertsFor("Brand X", {{"Something", "http://www.nlm.nih.gov/research/umls/rxnorm|723", "", true}},
                       "http://www.nlm.nih.gov/research/umls/rxnorm|723");
    QCOMPARE(alerts.size(), std::size_t{1});
    // An empty code never matches an empty code.
    QVERIFY(alertsFor("Brand X", {{"Something", "", "", true}}, "").empty());
  }

  void otherDrugClasses() {
    QCOMPARE(alertsFor("Co-trimoxazole 960 mg", {{"Sulfonamide", "", "", true}}).size(), std::size_t{1});
    QCOMPARE(alertsFor("Sulfasalazine 500 mg", {{"Allergy to sulfa drugs", "", "", true}}).size(), std::size_t{1});
    QCOMPARE(alertsFor("Naproxen 250 mg", {{"Ibuprofen", "", "", true}}).size(), std::size_t{1});
    QCOMPARE(alertsFor("Acetylsalicylic acid 100 mg", {{"NSAID", "", "", true}}).size(), std::size_t{1});
    QCOMPARE(alertsFor("Tramadol 50 mg", {{"Codeine", "", "", true}}).size(), std::size_t{1});
    // "sulfate" is not a sulfonamide.
    QVERIFY(alertsFor("Morphine sulfate 10 mg", {{"Sulfonamide", "", "", true}}).empty());
    QCOMPARE(alertsFor("Morphine sulfate 10 mg", {{"Opioid", "", "", true}}).size(), std::size_t{1});
  }

  void latexAndInactiveAllergiesNeverMatch() {
    QVERIFY(alertsFor("Amoxicillin 250 mg", {{"Latex", "", "high", true}}).empty());
    QVERIFY(alertsFor("Amoxicillin 250 mg", {{"Allergy to peanuts", "", "", true}}).empty());
    QVERIFY(alertsFor("Amoxicillin 250 mg", {{"Penicillin", "", "high", false}}).empty());
    // One alert per matching allergy, in order.
    const auto alerts = alertsFor("Amoxicillin 250 mg", {{"Latex", "", "", true},
                                                         {"Penicillin", "", "high", true},
                                                         {"Amoxicillin", "", "low", false},
                                                         {"Allergy to penicillin", "", "low", true}});
    QCOMPARE(alerts.size(), std::size_t{2});
    QCOMPARE(alerts[0].allergy, std::string("Penicillin"));
    QCOMPARE(alerts[1].allergy, std::string("Allergy to penicillin"));
  }

  void likelyDuplicatePatients() {
    const std::vector<PersonName> existing = {
        {"p1", "Müller", "Anna Lena", "1980-03-04"},
        {"p2", "Muller", "Anna", "1980-03-05"},  // another birth date
        {"p3", "Okafor", "Chidi", "1980-03-04"},
        {"p4", "Jönsson", "Åsa", "1975-01-01"},
        {"p5", "Li", "Wu", "1990-01-01"},
        {"p6", "O'Brien-Smith", "Seán", "1966-07-07"},
    };
    auto dup = likelyDuplicates({"new", "Muller", "Anna", "1980-03-04"}, existing);
    QCOMPARE(dup, std::vector<std::string>{"p1"});
    dup = likelyDuplicates({"new", "MUELLER", "Ana", "1980-03-04"}, existing);  // 1 + 1 edits
    QCOMPARE(dup, std::vector<std::string>{"p1"});
    dup = likelyDuplicates({"new", "Anna", "Müller", "1980-03-04"}, existing);  // swapped
    QCOMPARE(dup, std::vector<std::string>{"p1"});
    dup = likelyDuplicates({"new", "Jonsson", "Asa", "1975-01-01"}, existing);
    QCOMPARE(dup, std::vector<std::string>{"p4"});
    dup = likelyDuplicates({"new", "OBrien Smith", "Sean", "1966-07-07"}, existing);
    QCOMPARE(dup, std::vector<std::string>{"p6"});
    // Short names need to be nearly equal: "Lu"/"Wa" is not "Li"/"Wu".
    QVERIFY(likelyDuplicates({"new", "Lu", "Wa", "1990-01-01"}, existing).empty());
    QCOMPARE(likelyDuplicates({"new", "Wu", "Li", "1990-01-01"}, existing), std::vector<std::string>{"p5"});
    // A different name or a missing birth date is never a duplicate.
    QVERIFY(likelyDuplicates({"new", "Schneider", "Anna", "1980-03-04"}, existing).empty());
    QVERIFY(likelyDuplicates({"new", "Muller", "Anna", ""}, existing).empty());
    QVERIFY(likelyDuplicates({"new", "Muller", "Anna", "1980-02-30"}, existing).empty());
    // A patient is not a duplicate of itself.
    QVERIFY(likelyDuplicates(existing[0], existing).empty());
  }

  void scheduleTable() {
    const auto items = schedule();
    QVERIFY(items.size() >= 30);
    int dtap = 0, screenings = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const ScheduleItem& s = items[i];
      QVERIFY(!s.code.empty());
      QVERIFY(!s.name.empty());
      QVERIFY(s.overdueMonths > s.dueMonths);
      if (i > 0) QVERIFY(items[i - 1].dueMonths <= s.dueMonths);
      if (s.code == "20") ++dtap;
      if (s.kind == ScheduleKind::kScreening) ++screenings;
    }
    QCOMPARE(dtap, 5);
    QCOMPARE(screenings, 6);
  }

  void dueItemsStates() {
    // A child of 4 years and 3 months: DTaP 1-4 given, the 4-year dose due,
    // Hep B 3 never given (overdue), MMR 1 given, MMR 2 due.
    const std::string birth = "2020-03-10";
    const std::string today = "2024-06-10";
    const std::vector<GivenRecord> given = {
        {ScheduleKind::kImmunisation, "20", "2020-05-12"},
        {ScheduleKind::kImmunisation, "20", "2021-06-15"},
        {ScheduleKind::kImmunisation, "20", "2020-07-10"},
        {ScheduleKind::kImmunisation, "20", "2020-09-10"},
        {ScheduleKind::kImmunisation, "08", "2020-03-10"},
        {ScheduleKind::kImmunisation, "08", "2020-04-12"},
        {ScheduleKind::kImmunisation, "03", "2021-03-15"},
        {ScheduleKind::kScreening, std::string(kVisionScreeningCode), "2024-04-01"},
    };
    const auto items = dueItems(birth, today, given);
    QVERIFY(!items.empty());
    const DueItem* d = findDue(items, "20", 4);
    QVERIFY(d);
    QVERIFY(d->state == DueState::kDone);
    QCOMPARE(d->doneDate, std::string("2021-06-15"));  // doses counted in date order
    QCOMPARE(d->dueDate, std::string("2021-06-10"));
    d = findDue(items, "20", 5);
    QVERIFY(d && d->state == DueState::kDue);
    QCOMPARE(d->dueDate, std::string("2024-03-10"));
    d = findDue(items, "08", 3);
    QVERIFY(d && d->state == DueState::kOverdue);
    d = findDue(items, "03", 2);
    QVERIFY(d && d->state == DueState::kDue);
    d = findDue(items, std::string(kVisionScreeningCode), 1);
    QVERIFY(d && d->state == DueState::kDone);
    QCOMPARE(d->doneDate, std::string("2024-04-01"));
    d = findDue(items, std::string(kHearingScreeningCode), 1);
    QVERIFY(d && d->state == DueState::kDue);
    // Rotavirus was never given and its window closed at 8 months.
    QVERIFY(!findDue(items, "119", 1));
    // Hib (until 5 years) is still offered and overdue.
    d = findDue(items, "49", 1);
    QVERIFY(d && d->state == DueState::kOverdue);
    // The 6-year screening is 21 months away: left out.
    QVERIFY(!findDue(items, std::string(kVisionScreeningCode), 2));
    // Adolescent doses are far away and left out.
    QVERIFY(!findDue(items, "115", 1));
  }

  void dueItemsUpcomingAndBoundaries() {
    // A baby of one month: Hep B 1 (due at birth, overdue at 2 months) is
    // due, DTaP 1 (at 2 months) upcoming.
    auto items = dueItems("2024-05-01", "2024-06-01", {});
    const DueItem* d = findDue(items, "08", 1);
    QVERIFY(d && d->state == DueState::kDue);
    d = findDue(items, "20", 1);
    QVERIFY(d && d->state == DueState::kUpcoming);
    QCOMPARE(d->dueDate, std::string("2024-07-01"));
    d = findDue(items, "119", 1);
    QVERIFY(d && d->state == DueState::kUpcoming);
    // Due 12 months from now at most: MMR at 12 months is listed, 15-month DTaP 4 is not.
    QVERIFY(findDue(items, "03", 1));
    QVERIFY(!findDue(items, "20", 4));
    // The day the grace ends the dose is overdue.
    items = dueItems("2024-01-01", "2024-03-01", {});
    d = findDue(items, "08", 1);
    QVERIFY(d && d->state == DueState::kOverdue);
    items = dueItems("2024-01-01", "2024-02-29", {});
    d = findDue(items, "08", 1);
    QVERIFY(d && d->state == DueState::kDue);
    // A leap-day baby's 2-month doses are due on 29 April.
    items = dueItems("2024-02-29", "2024-04-29", {});
    d = findDue(items, "20", 1);
    QVERIFY(d && d->state == DueState::kDue);
    QCOMPARE(d->dueDate, std::string("2024-04-29"));
  }

  void dueItemsForAdultsAndBadDates() {
    // An adult sees the doses given, and nothing overdue.
    const std::vector<GivenRecord> given = {{ScheduleKind::kImmunisation, "115", "2001-05-01"}};
    const auto items = dueItems("1990-01-01", "2024-06-01", given);
    QCOMPARE(items.size(), std::size_t{1});
    QVERIFY(items[0].state == DueState::kDone);
    QCOMPARE(items[0].item.code, std::string("115"));
    QVERIFY(dueItems("", "2024-06-01", {}).empty());
    QVERIFY(dueItems("2023-02-30", "2024-06-01", {}).empty());
    QVERIFY(dueItems("2025-01-01", "2024-06-01", {}).empty());  // born after today
    // A dose given with an unknown date still counts, without a done date.
    const std::vector<GivenRecord> undated = {{ScheduleKind::kImmunisation, "08", ""}};
    const auto baby = dueItems("2024-05-01", "2024-06-01", undated);
    const DueItem* d = findDue(baby, "08", 1);
    QVERIFY(d && d->state == DueState::kDone);
    QVERIFY(d->doneDate.empty());
  }
};

QTEST_APPLESS_MAIN(ClinicalRulesTest)
#include "clinical_rules_test.moc"
