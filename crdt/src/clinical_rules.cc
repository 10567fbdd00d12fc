#include "charta/crdt/clinical_rules.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

#include "charta/crdt/schema.h"

namespace charta::rules {

namespace {

// --- dates (proleptic Gregorian) ---

bool isLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && isLeapYear(y)) return 29;
  return kDays[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 (H. Hinnant's days_from_civil).
std::int64_t daysFromCivil(const Date& d) {
  const std::int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (d.month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Whole months from birth to today: the largest m with birth + m months <= today.
int wholeMonths(const Date& birth, const Date& today) {
  int m = (today.year - birth.year) * 12 + (today.month - birth.month);
  if (addMonths(birth, m) > today) --m;
  return m;
}

std::string formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// --- text folding ---

// Latin-1 Supplement and Latin Extended-A letters (U+00C0..U+017F) without
// their accents; '*' marks the few that fold to two letters or to nothing.
constexpr std::string_view kFold =
    "aaaaaa*ceeeeiiii"   // U+00C0
    "dnooooo*ouuuuy**"   // U+00D0
    "aaaaaa*ceeeeiiii"   // U+00E0
    "dnooooo*ouuuuy*y"   // U+00F0
    "aaaaaaccccccccdd"   // U+0100
    "ddeeeeeeeeeegggg"   // U+0110
    "gggghhhhiiiiiiii"   // U+0120
    "iiiijjkkklllllll"   // U+0130
    "lllnnnnnnnnnoooo"   // U+0140
    "oooorrrrrrssssss"   // U+0150
    "ssttttttuuuuuuuu"   // U+0160
    "uuuuwwyyyzzzzzzs";  // U+0170

void appendFolded(std::string& out, unsigned cp) {
  switch (cp) {
    case 0xC6:
    case 0xE6: out += "ae"; return;
    case 0xDE:
    case 0xFE: out += "th"; return;
    case 0xDF: out += "ss"; return;
    case 0xD7:
    case 0xF7: return;  // multiplication and division signs
    case 0x152:
    case 0x153: out += "oe"; return;
    case 0x132:
    case 0x133: out += "ij"; return;
    default: break;
  }
  out += kFold[cp - 0xC0];
}

// Lower case, Latin accents folded (é -> e, ß -> ss), combining accents
// dropped; every other byte is kept as it is.
std::string foldText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += static_cast<char>(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
      continue;
    }
    if ((b & 0xE0) == 0xC0 && i + 1 < s.size()) {
      const auto c = static_cast<unsigned char>(s[i + 1]);
      if ((c & 0xC0) == 0x80) {
        const unsigned cp = ((b & 0x1Fu) << 6) | (c & 0x3Fu);
        if (cp >= 0xC0 && cp <= 0x17F) {
          appendFolded(out, cp);
          ++i;
          continue;
        }
        if (cp >= 0x300 && cp <= 0x36F) {  // combining diacritical marks
          ++i;
          continue;
        }
      }
    }
    out += static_cast<char>(b);
  }
  return out;
}

// foldText() with ASCII spaces and punctuation removed: "O'Brien-Smith" -> "obriensmith".
std::string normaliseName(std::string_view s) {
  std::string folded = foldText(s);
  std::string out;
  for (char c : folded) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}

std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Two normalised names are similar when equal, or at most 2 edits apart and
// at most a third of the longer one ("li" and "wu" are not similar).
bool similarName(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  const std::size_t allowed = std::min<std::size_t>(2, std::max(a.size(), b.size()) / 3);
  return levenshtein(a, b) <= allowed;
}

std::string firstGivenName(std::string_view given) {
  const std::size_t start = given.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  const std::size_t end = given.find_first_of(" \t", start);
  return normaliseName(given.substr(start, end == std::string_view::npos ? end : end - start));
}

// --- drug classes ---

// A small table of drug classes for allergy alerts: an allergy naming the
// class (or one of its words) or any member counts as an allergy to the
// class, and a medication naming any member matches it. Names are folded
// (lower case, no accents); British and international spellings both listed.
// `crossNote`, when set, names another class that people allergic to this
// one sometimes react to (a softer alert).
struct DrugClass {
  std::string_view singular;            // "a penicillin"
  std::vector<std::string_view> words;  // words in an allergy display that name the class
  std::vector<std::string_view> members;
  std::string_view crossClass;  // singular of a class with a known cross-reactivity, or empty
};

const std::vector<DrugClass>& drugClasses() {
  static const std::vector<DrugClass> kClasses = {
      {"a penicillin",
       {"penicillin"},
       {"penicillin", "amoxicillin", "amoxycillin", "ampicillin", "flucloxacillin", "cloxacillin", "dicloxacillin",
        "piperacillin", "benzylpenicillin", "phenoxymethylpenicillin", "co-amoxiclav", "augmentin"},
       "a cephalosporin"},
      {"a cephalosporin",
       {"cephalosporin"},
       {"cefalexin", "cephalexin", "cefazolin", "cefuroxime", "ceftriaxone", "cefotaxime", "ceftazidime", "cefixime",
        "cefaclor", "cefadroxil", "cefepime", "cefpodoxime"},
       {}},
      {"a sulfonamide",
       {"sulfonamide", "sulphonamide", "sulfa drug", "sulpha drug", "sulfa antibiotic"},
       {"sulfamethoxazole", "sulphamethoxazole", "co-trimoxazole", "cotrimoxazole", "sulfasalazine", "sulphasalazine",
        "sulfadiazine", "bactrim"},
       {}},
      {"an NSAID",
       {"nsaid", "non-steroidal anti-inflammatory", "nonsteroidal anti-inflammatory"},
       {"ibuprofen", "naproxen", "diclofenac", "aspirin", "acetylsalicylic", "ketoprofen", "indometacin",
        "indomethacin", "celecoxib", "etoricoxib", "mefenamic", "ketorolac", "meloxicam"},
       {}},
      {"an opioid",
       {"opioid", "opiate"},
       {"codeine", "morphine", "oxycodone", "tramadol", "hydromorphone", "fentanyl", "pethidine", "tapentadol",
        "hydrocodone", "methadone", "buprenorphine"},
       {}},
  };
  return kClasses;
}

bool contains(std::string_view hay, std::string_view needle) {
  return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

// What an allergy display names, without the words around it:
// "Allergy to penicillin" -> "penicillin", "Shellfish (substance)" -> "shellfish".
std::string allergenOf(const std::string& foldedDisplay) {
  std::string s = foldedDisplay;
  for (std::string_view prefix : {"allergy to ", "allergic to ", "intolerance to ", "hypersensitivity to "}) {
    if (s.rfind(prefix, 0) == 0) s.erase(0, prefix.size());
  }
  if (const auto paren = s.find(" ("); paren != std::string::npos) s.erase(paren);
  for (std::string_view suffix : {" allergy", " intolerance"}) {
    if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      s.erase(s.size() - suffix.size());
    }
  }
  const auto first = s.find_first_not_of(' ');
  const auto last = s.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

// The member of a class named in the medication, or empty.
std::string_view memberIn(const DrugClass& c, std::string_view foldedMedication) {
  for (std::string_view m : c.members) {
    if (contains(foldedMedication, m)) return m;
  }
  return {};
}

bool allergyNamesClass(const DrugClass& c, std::string_view foldedAllergy) {
  for (std::string_view w : c.words) {
    if (contains(foldedAllergy, w)) return true;
  }
  return !memberIn(c, foldedAllergy).empty();
}

// --- the schedule ---

constexpr int kAdultMonths = 18 * 12;

// One row of the example schedule, with the age after which a dose not yet
// given is no longer offered (rotavirus after 8 months, Hib and PCV after 5
// years, the rest at 18 years): such a dose is left out of dueItems().
struct Row {
  ScheduleItem item;
  int closesMonths;
};

Row immunisation(std::string code, std::string name, int dose, int due, int closes = kAdultMonths) {
  // Grace: two months for doses due before the second birthday, a year after.
  const int grace = due < 24 ? 2 : 12;
  return Row{ScheduleItem{ScheduleKind::kImmunisation, std::move(code), std::move(name), dose, due, due + grace},
             closes};
}

Row screening(std::string code, std::string name, int n, int due) {
  return Row{ScheduleItem{ScheduleKind::kScreening, std::move(code), std::move(name), n, due, due + 12}, kAdultMonths};
}

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = [] {
    std::vector<Row> r = {
        immunisation("08", "Hep B", 1, 0),
        immunisation("08", "Hep B", 2, 1),
        immunisation("08", "Hep B", 3, 6),
        immunisation("20", "DTaP", 1, 2),
        immunisation("20", "DTaP", 2, 4),
        immunisation("20", "DTaP", 3, 6),
        immunisation("20", "DTaP", 4, 15),
        immunisation("20", "DTaP", 5, 48),
        immunisation("10", "IPV", 1, 2),
        immunisation("10", "IPV", 2, 4),
        immunisation("10", "IPV", 3, 6),
        immunisation("10", "IPV", 4, 48),
        immunisation("49", "Hib", 1, 2, 60),
        immunisation("49", "Hib", 2, 4, 60),
        immunisation("49", "Hib", 3, 12, 60),
        immunisation("133", "PCV13", 1, 2, 60),
        immunisation("133", "PCV13", 2, 4, 60),
        immunisation("133", "PCV13", 3, 6, 60),
        immunisation("133", "PCV13", 4, 12, 60),
        immunisation("119", "Rotavirus", 1, 2, 8),
        immunisation("119", "Rotavirus", 2, 4, 8),
        immunisation("03", "MMR", 1, 12),
        immunisation("03", "MMR", 2, 48),
        immunisation("21", "Varicella", 1, 12),
        immunisation("21", "Varicella", 2, 48),
        immunisation("83", "Hep A", 1, 12),
        immunisation("83", "Hep A", 2, 18),
        immunisation("115", "Tdap", 1, 132),
        immunisation("62", "HPV", 1, 132),
        immunisation("62", "HPV", 2, 138),
        immunisation("114", "MenACWY", 1, 132),
        immunisation("114", "MenACWY", 2, 192),
        screening(std::string(kVisionScreeningCode), "Vision screening", 1, 48),
        screening(std::string(kVisionScreeningCode), "Vision screening", 2, 72),
        screening(std::string(kVisionScreeningCode), "Vision screening", 3, 132),
        screening(std::string(kHearingScreeningCode), "Hearing screening", 1, 48),
        screening(std::string(kHearingScreeningCode), "Hearing screening", 2, 72),
        screening(std::string(kHearingScreeningCode), "Hearing screening", 3, 132),
    };
    std::stable_sort(r.begin(), r.end(),
                     [](const Row& a, const Row& b) { return a.item.dueMonths < b.item.dueMonths; });
    return r;
  }();
  return kRows;
}

}  // namespace

// --- dates ---

bool Date::valid() const {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

std::optional<Date> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t from, std::size_t count, int& out) {
    out = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  Date d;
  if (!number(0, 4, d.year) || !number(5, 2, d.month) || !number(8, 2, d.day)) return std::nullopt;
  if (!d.valid()) return std::nullopt;
  return d;
}

std::string formatDate(const Date& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

Date addMonths(const Date& d, int months) {
  if (!d.valid()) return d;
  const int total = d.year * 12 + (d.month - 1) + months;
  Date out;
  out.year = total >= 0 ? total / 12 : (total - 11) / 12;
  out.month = total - out.year * 12 + 1;
  out.day = out.year >= 1 && out.year <= 9999 ? std::min(d.day, daysInMonth(out.year, out.month)) : d.day;
  return out;
}

std::int64_t daysBetween(const Date& a, const Date& b) { return daysFromCivil(b) - daysFromCivil(a); }

// --- age ---

std::optional<Age> ageAt(std::string_view birthDate, std::string_view today) {
  const auto birth = parseDate(birthDate);
  const auto now = parseDate(today);
  if (!birth || !now || *birth > *now) return std::nullopt;
  Age age;
  age.months = wholeMonths(*birth, *now);
  age.years = age.months / 12;
  age.days = static_cast<int>(daysBetween(*birth, *now));
  if (age.years >= 2) {
    age.label = std::to_string(age.years) + " y";
  } else if (age.months >= 1) {
    age.label = std::to_string(age.months) + " mo";
  } else {
    age.label = std::to_string(age.days) + " d";
  }
  return age;
}

// --- vital signs and results ---

VitalCheck checkVital(std::string_view loinc, double value) {
  const auto spec = crdt::findVitalSign(loinc);
  if (!spec) {
    return {VitalVerdict::kUnknownCode, "LOINC code " + std::string(loinc) + " is not a vital sign Charta charts"};
  }
  if (!std::isfinite(value)) return {VitalVerdict::kNotANumber, "the value is not a number"};
  if (value < spec->plausibleLow || value > spec->plausibleHigh) {
    return {VitalVerdict::kImplausible, formatNumber(value) + " is outside what is plausible for " +
                                            std::string(spec->name) + " (" + formatNumber(spec->plausibleLow) +
                                            "\u2013" + formatNumber(spec->plausibleHigh) + " " +
                                            std::string(spec->ucumUnit) + "): check for a typo"};
  }
  return {};
}

ResultFlag flagResult(double value, std::optional<double> low, std::optional<double> high) {
  if ((!low && !high) || std::isnan(value)) return ResultFlag::kNoRange;
  if (low && value < *low) return ResultFlag::kLow;
  if (high && value > *high) return ResultFlag::kHigh;
  return ResultFlag::kNormal;
}

std::string_view flagLabel(ResultFlag f) {
  switch (f) {
    case ResultFlag::kLow: return "L";
    case ResultFlag::kHigh: return "H";
    case ResultFlag::kNormal:
    case ResultFlag::kNoRange: break;
  }
  return "";
}

// --- allergies ---

std::vector<AllergyAlert> allergyAlerts(std::string_view medicationDisplay, std::string_view medicationCode,
                                        std::span<const AllergyRecord> allergies) {
  std::vector<AllergyAlert> alerts;
  const std::string medication = foldText(medicationDisplay);
  for (const AllergyRecord& a : allergies) {
    if (!a.active) continue;
    std::string reason;
    const std::string display = foldText(a.display);
    const std::string allergen = allergenOf(display);
    if (!a.code.empty() && a.code == medicationCode) {
      reason = "the medication has the allergy's code " + a.code;
    } else if (allergen.size() >= 3 && contains(medication, allergen)) {
      reason = allergen + " is the allergen";
    } else {
      for (const DrugClass& c : drugClasses()) {
        if (!allergyNamesClass(c, display)) continue;
        if (std::string_view m = memberIn(c, medication); !m.empty()) {
          reason = std::string(m) + " is " + std::string(c.singular);
          break;
        }
      }
      // A softer alert for a known cross-reactivity (penicillins and cephalosporins).
      for (const DrugClass& c : drugClasses()) {
        if (!reason.empty()) break;
        if (c.crossClass.empty() || !allergyNamesClass(c, display)) continue;
        for (const DrugClass& other : drugClasses()) {
          if (other.singular != c.crossClass) continue;
          if (std::string_view m = memberIn(other, medication); !m.empty()) {
            reason = std::string(m) + " is " + std::string(other.singular) + ": some people allergic to " +
                     std::string(c.singular.substr(c.singular.find(' ') + 1)) + "s react to it too";
          }
        }
      }
    }
    if (reason.empty()) continue;
    alerts.push_back(AllergyAlert{a.display, std::move(reason), a.criticality == "high"});
  }
  return alerts;
}

// --- duplicates ---

std::vector<std::string> likelyDuplicates(const PersonName& candidate, std::span<const PersonName> existing) {
  std::vector<std::string> out;
  const auto birth = parseDate(candidate.birthDate);
  if (!birth) return out;
  const std::string family = normaliseName(candidate.familyName);
  const std::string given = firstGivenName(candidate.givenNames);
  for (const PersonName& p : existing) {
    if (!p.patient.empty() && p.patient == candidate.patient) continue;
    const auto otherBirth = parseDate(p.birthDate);
    if (!otherBirth || *otherBirth != *birth) continue;
    const std::string otherFamily = normaliseName(p.familyName);
    const std::string otherGiven = firstGivenName(p.givenNames);
    const bool same = similarName(family, otherFamily) && similarName(given, otherGiven);
    const bool swapped = similarName(family, otherGiven) && similarName(given, otherFamily);
    if (same || swapped) out.push_back(p.patient);
  }
  return out;
}

// --- schedule ---

std::span<const ScheduleItem> schedule() {
  static const std::vector<ScheduleItem> kItems = [] {
    std::vector<ScheduleItem> items;
    for (const Row& r : rows()) items.push_back(r.item);
    return items;
  }();
  return kItems;
}

std::vector<DueItem> dueItems(std::string_view birthDate, std::string_view today, std::span<const GivenRecord> given) {
  std::vector<DueItem> out;
  const auto birth = parseDate(birthDate);
  const auto now = parseDate(today);
  if (!birth || !now || *birth > *now) return out;
  const int ageMonths = wholeMonths(*birth, *now);
  const Date horizon = addMonths(*now, 12);

  // Given doses per (kind, code): dated ones in date order, then undated ones.
  std::map<std::pair<ScheduleKind, std::string>, std::vector<std::string>> doses;
  for (const GivenRecord& g : given) doses[{g.kind, g.code}].push_back(g.date);
  for (auto& [key, dates] : doses) {
    std::stable_sort(dates.begin(), dates.end(), [](const std::string& a, const std::string& b) {
      const auto da = parseDate(a);
      const auto db = parseDate(b);
      if (da && db) return *da < *db;
      return da.has_value() && !db.has_value();
    });
  }

  for (const Row& r : rows()) {
    DueItem d;
    d.item = r.item;
    const Date due = addMonths(*birth, r.item.dueMonths);
    if (due > horizon) continue;
    d.dueDate = formatDate(due);
    const auto it = doses.find({r.item.kind, r.item.code});
    const auto count = it == doses.end() ? 0 : it->second.size();
    if (count >= static_cast<std::size_t>(r.item.dose)) {
      d.state = DueState::kDone;
      const std::string& date = it->second[static_cast<std::size_t>(r.item.dose - 1)];
      if (parseDate(date)) d.doneDate = date;
    } else if (ageMonths >= r.closesMonths) {
      continue;  // no longer offered at this age
    } else if (*now >= addMonths(*birth, r.item.overdueMonths)) {
      d.state = DueState::kOverdue;
    } else if (*now >= due) {
      d.state = DueState::kDue;
    } else {
      d.state = DueState::kUpcoming;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace charta::rules
