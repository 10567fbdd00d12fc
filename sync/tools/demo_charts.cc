#include "demo_charts.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

namespace charta::sync {

using crdt::AppendObservation;
using crdt::ChartDocument;
using crdt::Collection;
using crdt::EntryStatus;
using crdt::FieldId;
using crdt::FieldRef;
using crdt::FieldValue;
using crdt::ObservationCategory;
using crdt::Op;
using crdt::OpFactory;
using crdt::OpId;
using crdt::Status;
using crdt::Value;
namespace field = crdt::field;
namespace loinc = crdt::loinc;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMinuteMs = 60'000;

// --- calendar (proleptic Gregorian, days since 1970-01-01) ---

struct Ymd {
  int y = 1970;
  int m = 1;
  int d = 1;
};

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int monthDays(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

std::int64_t toDays(const Ymd& v) {
  const std::int64_t y = v.y - (v.m <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * ((v.m + 9) % 12) + 2) / 5 + v.d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

Ymd fromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Ymd{static_cast<int>(yoe + era * 400) + (m <= 2 ? 1 : 0), m, d};
}

std::int64_t addMonths(std::int64_t days, int months) {
  const Ymd v = fromDays(days);
  const int total = v.y * 12 + (v.m - 1) + months;
  Ymd out{total / 12, total % 12 + 1, 1};
  out.d = std::min(v.d, monthDays(out.y, out.m));
  return toDays(out);
}

std::string dateText(std::int64_t days) {
  const Ymd v = fromDays(days);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", v.y, v.m, v.d);
  return buf;
}

bool parseToday(const std::string& text, std::int64_t& days) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (std::size_t p = 0; p < 3; ++p) {
    for (std::size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      parts[p] = parts[p] * 10 + (text[i] - '0');
    }
  }
  if (parts[0] < 1900 || parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > monthDays(parts[0], parts[1])) {
    return false;
  }
  days = toDays(Ymd{parts[0], parts[1], parts[2]});
  return true;
}

// --- randomness (splitmix64, as RandomEditor) ---

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state(seed ^ 0x6A09E667F3BCC908ull) {
    m_state = next() ^ (seed * 0xD1B54A32D192ED03ull);
  }
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  int between(int lo, int hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool chance(int percent) { return below(100) < percent; }
  double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
  double noise(double spread) { return (uniform() + uniform() - 1.0) * spread; }
  template <typename T, std::size_t N>
  const T& pick(const T (&options)[N]) {
    return options[static_cast<std::size_t>(below(static_cast<int>(N)))];
  }

 private:
  std::uint64_t m_state;
};

// --- the batch of one patient ---

// The ops of one chart, planned ahead and made in order by editBatch. A slot
// names an op planned earlier (an entry, a visit, a note): its id is known
// only once editBatch has made it, so later ops look it up then.
class ChartPlan {
 public:
  using Slot = std::size_t;
  static constexpr Slot kNone = std::numeric_limits<Slot>::max();

  void write(FieldId f, Value v) {
    push([f, v](OpFactory& fac, const ChartDocument& doc) {
      return fac.writeField(doc, FieldRef{Collection::kDemographics, {}, f}, v);
    });
  }
  Slot add(Collection c, std::vector<FieldValue> fields, Slot visit = kNone) {
    const Slot slot = newSlot();
    push([ids = m_ids, c, fields = std::move(fields), visit, slot](OpFactory& fac, const ChartDocument& doc) {
      Op op = fac.addEntry(doc, c, fields, idOf(*ids, visit));
      (*ids)[slot] = op.id;
      return op;
    });
    return slot;
  }
  void status(Slot entry, EntryStatus s, std::string reason) {
    push([ids = m_ids, entry, s, reason = std::move(reason)](OpFactory& fac, const ChartDocument& doc) {
      return fac.setStatus(doc, (*ids)[entry], s, reason);
    });
  }
  void observe(AppendObservation obs, Slot visit) {
    push([ids = m_ids, obs = std::move(obs), visit](OpFactory& fac, const ChartDocument& doc) {
      AppendObservation o = obs;
      o.visit = idOf(*ids, visit);
      return fac.appendObservation(doc, std::move(o));
    });
  }
  Slot startNote(std::string text, Slot visit) {
    const Slot slot = newSlot();
    push([ids = m_ids, text = std::move(text), visit, slot](OpFactory& fac, const ChartDocument& doc) {
      Op op = fac.startNote(doc, text, idOf(*ids, visit));
      (*ids)[slot] = op.id;
      return op;
    });
    return slot;
  }
  void editNote(Slot note, std::string text) {
    push([ids = m_ids, note, text = std::move(text)](OpFactory& fac, const ChartDocument& doc) {
      return fac.editNote(doc, (*ids)[note], text);
    });
  }
  void signNote(Slot note, std::string text) {
    push([ids = m_ids, note, text = std::move(text)](OpFactory& fac, const ChartDocument& doc) {
      return fac.signNote(doc, (*ids)[note], text);
    });
  }
  void addendum(Slot note, std::string text) {
    push([ids = m_ids, note, text = std::move(text)](OpFactory& fac, const ChartDocument& doc) {
      return fac.addAddendum(doc, (*ids)[note], text);
    });
  }

  const std::vector<Replica::MakeOp>& makes() const { return m_makes; }

 private:
  static OpId idOf(const std::vector<OpId>& ids, Slot slot) { return slot == kNone ? OpId{} : ids[slot]; }
  Slot newSlot() {
    m_ids->emplace_back();
    return m_ids->size() - 1;
  }
  void push(Replica::MakeOp make) { m_makes.push_back(std::move(make)); }

  std::shared_ptr<std::vector<OpId>> m_ids = std::make_shared<std::vector<OpId>>();
  std::vector<Replica::MakeOp> m_makes;
};

FieldValue text(FieldId f, std::string v) { return FieldValue{f, Value{std::move(v)}}; }
FieldValue integer(FieldId f, std::int64_t v) { return FieldValue{f, Value{v}}; }

// --- the clinic's content ---

const char* const kFamilies[] = {"Okafor",  "Lindqvist", "Moreau",   "Tanaka",   "Haddad", "Novak",    "Silva",
                                 "Jönsson", "Núñez",     "O'Brien",  "Kowalski", "Nguyen", "Rossi",    "Fischer",
                                 "García",  "Dubois",    "Andersen", "Yilmaz",   "Mensah", "Keller",   "Brunner",
                                 "Çelik",   "Hoffmann",  "Costa",    "Meier",    "Schmid", "Ferreira", "Bianchi"};
const char* const kGivenFemale[] = {"Amara", "Lea",    "Yara", "Ines", "Sofia", "Mia",    "Hanna", "Zoé",
                                    "Elif",  "Chiara", "Maja", "Aiko", "Nora",  "Léonie", "Ada",   "Rosa"};
const char* const kGivenMale[] = {"Jonas", "Ken", "Piotr", "Luca",  "Noah",  "Elias", "Mateo", "Kwame",
                                  "Émile", "Jan", "Omar",  "Felix", "Tomás", "Sven",  "Arjun", "Leo"};
const char* const kStreets[] = {"Birkenweg", "Rue Haute", "Main Street", "Seestrasse", "Via Roma", "Lindenallee"};
const char* const kLanguages[] = {"de", "fr", "it", "en", "pt", "tr", "es"};
const char* const kNurses[] = {"Sr. M. Keller", "N. Ammann RN", "J. Dupont RN", "Dr. S. Weber"};

constexpr const char* kSnomed = "http://snomed.info/sct|";
constexpr const char* kCvx = "http://hl7.org/fhir/sid/cvx|";

struct Vaccine {
  const char* cvx;
  const char* display;
  std::vector<int> doseMonths;
};
// The example schedule of docs/SCHEDULE.md (the app's rules hold the same
// table; sync stays independent of the app).
const std::vector<Vaccine>& vaccines() {
  static const std::vector<Vaccine> kVaccines = {
      {"08", "Hep B, adolescent or pediatric", {0, 1, 6}},
      {"20", "DTaP", {2, 4, 6, 15, 48}},
      {"10", "IPV", {2, 4, 6, 48}},
      {"49", "Hib (PRP-OMP)", {2, 4, 12}},
      {"133", "Pneumococcal conjugate PCV 13", {2, 4, 6, 12}},
      {"119", "rotavirus, monovalent", {2, 4}},
      {"03", "MMR", {12, 48}},
      {"21", "varicella", {12, 48}},
      {"83", "Hep A, ped/adol, 2 dose", {12, 18}},
      {"115", "Tdap", {132}},
      {"62", "HPV, quadrivalent", {132, 138}},
      {"114", "meningococcal MCV4P", {132, 192}},
  };
  return kVaccines;
}

struct Problem {
  const char* code;
  const char* display;
};
constexpr Problem kHypertension{"38341003", "Hypertension"};
constexpr Problem kDiabetes{"44054006", "Diabetes mellitus type 2"};
constexpr Problem kCopd{"13645005", "Chronic obstructive lung disease"};
constexpr Problem kHeartFailure{"84114007", "Heart failure"};
constexpr Problem kAsthma{"195967001", "Asthma"};
constexpr Problem kHyperlipidaemia{"55822004", "Hyperlipidemia"};
constexpr Problem kOsteoarthritis{"239873007", "Osteoarthritis of knee"};

struct Med {
  const char* display;
  const char* dose;
  const char* route;
  const char* frequency;
};

struct Allergy {
  const char* display;
  const char* category;
  const char* reaction;
  const char* severity;
  const char* criticality;
};
constexpr Allergy kAllergies[] = {
    {"Penicillin", "medication", "Anaphylaxis", "severe", "high"},
    {"Peanut", "food", "Urticaria and lip swelling", "moderate", "high"},
    {"Latex", "environment", "Contact dermatitis", "mild", "low"},
    {"Sulfonamide", "medication", "Rash", "moderate", "low"},
    {"Bee venom", "environment", "Generalised urticaria", "severe", "high"},
    {"Ibuprofen", "medication", "Wheeze", "moderate", "unable-to-assess"},
    {"House dust mite", "environment", "Rhinitis", "mild", "low"},
};

enum class Kind { kChild, kAdult, kElder };

struct Person {
  Kind kind = Kind::kAdult;
  std::string family, given, sex, birth;
  std::int64_t birthDays = 0;
};

// Writes one patient's chart into plan.
class PatientWriter {
 public:
  PatientWriter(ChartPlan& plan, Rng& rng, std::int64_t today, int years, std::size_t index, std::uint64_t seed)
      : m_plan(plan), m_rng(rng), m_today(today), m_from(addMonths(today, -12 * years)), m_index(index), m_seed(seed) {}

  void write() {
    person();
    demographics();
    allergies();
    switch (m_p.kind) {
      case Kind::kChild: child(); break;
      case Kind::kAdult: adult(); break;
      case Kind::kElder: elder(); break;
    }
    notes();
  }

 private:
  double ageAt(std::int64_t days) const { return static_cast<double>(days - m_p.birthDays) / 365.25; }

  void person() {
    const std::size_t slot = m_index % 20;
    m_p.kind = slot < 8 ? Kind::kChild : slot < 15 ? Kind::kAdult : Kind::kElder;
    m_p.sex = m_rng.chance(50) ? "female" : "male";
    m_p.family = m_rng.pick(kFamilies);
    m_p.given = m_p.sex == "female" ? m_rng.pick(kGivenFemale) : m_rng.pick(kGivenMale);
    if (m_rng.chance(20))
      m_p.given += std::string(" ") + (m_p.sex == "female" ? m_rng.pick(kGivenFemale) : m_rng.pick(kGivenMale));
    int ageYears = 0;
    switch (m_p.kind) {
      case Kind::kChild: ageYears = m_rng.between(4, 17); break;
      case Kind::kAdult: ageYears = m_rng.between(19, 64); break;
      case Kind::kElder: ageYears = m_rng.between(70, 94); break;
    }
    m_p.birthDays = addMonths(m_today, -12 * ageYears) - m_rng.between(1, 360);
    if (m_index == 1) {  // the likely-duplicate demonstration (see the header)
      m_p.kind = Kind::kAdult;
      m_p.family = "Müller";
      m_p.given = "Anna Lena";
      m_p.sex = "female";
      m_p.birthDays = toDays(Ymd{1984, 3, 12});
    }
    m_p.birth = dateText(m_p.birthDays);
  }

  void demographics() {
    m_plan.write(field::kFamilyName, Value{m_p.family});
    m_plan.write(field::kGivenNames, Value{m_p.given});
    m_plan.write(field::kBirthDate, Value{m_p.birth});
    m_plan.write(field::kSex, Value{m_p.sex});
    m_plan.write(field::kAddress,
                 Value{std::to_string(m_rng.between(1, 180)) + " " + m_rng.pick(kStreets) + ", Demo Town"});
    char phone[32];
    std::snprintf(phone, sizeof phone, "+41 79 %03d %02d %02d", m_rng.between(100, 999), m_rng.between(0, 99),
                  m_rng.between(0, 99));
    m_plan.write(field::kPhone, Value{std::string(phone)});
    if (m_rng.chance(60)) m_plan.write(field::kLanguage, Value{std::string(m_rng.pick(kLanguages))});
    char mrn[32];
    std::snprintf(mrn, sizeof mrn, "MRN-%06llu",
                  static_cast<unsigned long long>((m_seed * 7919 + m_index) % 900000 + 100000));
    m_plan.add(Collection::kIdentifiers,
               {text(field::kIdentifierSystem, "urn:charta:mrn"), text(field::kIdentifierValue, mrn)});
  }

  void allergies() {
    const int roll = m_rng.below(10);
    if (roll < 3) {
      const int count = m_rng.chance(25) ? 2 : 1;
      int first = m_rng.below(static_cast<int>(std::size(kAllergies)));
      if (m_index == 1) first = 0;  // Anna Lena Müller: penicillin, high criticality
      for (int i = 0; i < count; ++i) {
        const Allergy& a = kAllergies[static_cast<std::size_t>(first + i) % std::size(kAllergies)];
        m_plan.add(Collection::kAllergies, {text(field::kDisplay, a.display), text(field::kAllergyCategory, a.category),
                                            text(field::kReaction, a.reaction), text(field::kSeverity, a.severity),
                                            text(field::kCriticality, a.criticality)});
      }
      if (m_rng.chance(50)) m_plan.write(field::kNoKnownAllergies, Value{false});
      m_hasAllergy = true;
    } else if (roll < 7) {
      m_plan.write(field::kNoKnownAllergies, Value{true});
    }  // else: nothing recorded
  }

  // A visit on a day (morning or early afternoon), finished.
  ChartPlan::Slot visit(std::int64_t day, const char* setting, const std::string& reason, const std::string& location) {
    const std::int64_t start = day * kDayMs + (8 * 60 + m_rng.between(0, 7 * 60)) * kMinuteMs;
    const std::int64_t end = start + m_rng.between(15, 50) * kMinuteMs;
    m_visitStart = start;
    const ChartPlan::Slot v =
        m_plan.add(Collection::kVisits,
                   {integer(crdt::kStatusField, static_cast<std::int64_t>(EntryStatus::kFinished)),
                    text(field::kDisplay, reason), text(field::kSetting, setting), integer(field::kStart, start),
                    integer(field::kEnd, end), text(field::kPractitioner, m_rng.pick(kNurses)),
                    text(field::kReason, reason), text(field::kLocation, location)});
    m_visits.push_back(v);
    return v;
  }

  void vital(std::string_view code, double value, ChartPlan::Slot v, int decimals = 0) {
    const auto spec = crdt::findVitalSign(code);
    if (!spec) return;
    const double scale = decimals == 0 ? 1.0 : std::pow(10.0, decimals);
    value = std::round(std::clamp(value, spec->plausibleLow, spec->plausibleHigh) * scale) / scale;
    AppendObservation obs;
    obs.category = ObservationCategory::kVitalSign;
    obs.code = std::string(code);
    obs.value = Value{value};
    obs.unit = std::string(spec->ucumUnit);
    obs.effectiveMs = m_visitStart + m_rng.between(2, 12) * kMinuteMs;
    m_plan.observe(std::move(obs), v);
  }

  void lab(const char* code, double value, const char* unit, double low, double high, ChartPlan::Slot v,
           int decimals = 1) {
    const double scale = std::pow(10.0, decimals);
    AppendObservation obs;
    obs.category = ObservationCategory::kLaboratory;
    obs.code = code;
    obs.value = Value{std::round(value * scale) / scale};
    obs.unit = unit;
    obs.effectiveMs = m_visitStart + m_rng.between(5, 20) * kMinuteMs;
    obs.referenceLow = low;
    obs.referenceHigh = high;
    m_plan.observe(std::move(obs), v);
  }

  ChartPlan::Slot problem(const Problem& p, std::int64_t onsetDay, ChartPlan::Slot v = ChartPlan::kNone) {
    return m_plan.add(Collection::kProblems,
                      {text(field::kCode, std::string(kSnomed) + p.code), text(field::kDisplay, p.display),
                       text(field::kOnsetDate, dateText(onsetDay))},
                      v);
  }

  ChartPlan::Slot medication(const Med& m, std::int64_t startDay, ChartPlan::Slot v = ChartPlan::kNone) {
    return m_plan.add(Collection::kMedications,
                      {text(field::kDisplay, m.display), text(field::kDose, m.dose), text(field::kRoute, m.route),
                       text(field::kFrequency, m.frequency), text(field::kStartDate, dateText(startDay))},
                      v);
  }

  // Visit days between m_from and today: `count` of them, spread evenly with jitter.
  std::vector<std::int64_t> visitDays(int count) {
    std::vector<std::int64_t> days;
    const std::int64_t span = m_today - m_from;
    for (int i = 0; i < count; ++i) {
      const std::int64_t base = m_from + span * i / count;
      const std::int64_t jitter = m_rng.between(0, static_cast<int>(std::max<std::int64_t>(1, span / count / 2)));
      days.push_back(std::min(m_today - 1, base + jitter));
    }
    return days;
  }

  void child() {
    // The immunisation history: every dose due so far, a few days late at
    // most; about a third of the children miss one dose.
    const bool missing = m_rng.chance(35);
    std::vector<std::pair<std::int64_t, std::pair<const Vaccine*, int>>> doses;
    for (const Vaccine& v : vaccines()) {
      for (std::size_t i = 0; i < v.doseMonths.size(); ++i) {
        const std::int64_t day = addMonths(m_p.birthDays, v.doseMonths[i]) + m_rng.between(0, 20);
        if (day < m_today) doses.push_back({day, {&v, static_cast<int>(i + 1)}});
      }
    }
    std::sort(doses.begin(), doses.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (missing && !doses.empty()) {
      // Leave out the latest dose (often the 4-year boosters or an adolescent dose).
      doses.pop_back();
    }
    for (const auto& [day, dose] : doses) {
      ChartPlan::Slot v = ChartPlan::kNone;
      const bool infant = ageAt(day) < 3.0;
      if (day >= m_from) {
        v = visit(day, ageAt(day) >= 4.0 ? "school" : "clinic", std::string("Immunisation: ") + dose.first->display,
                  ageAt(day) >= 4.0 ? "School health room" : "Demo Clinic");
      }
      char lot[16];
      std::snprintf(lot, sizeof lot, "LOT%05d", m_rng.between(10000, 99999));
      m_plan.add(Collection::kImmunisations,
                 {text(field::kCode, std::string(kCvx) + dose.first->cvx), text(field::kDisplay, dose.first->display),
                  text(field::kOccurrenceDate, dateText(day)), text(field::kLotNumber, lot),
                  text(field::kSite, infant ? (m_rng.chance(50) ? "left thigh" : "right thigh")
                                            : (m_rng.chance(50) ? "left deltoid" : "right deltoid")),
                  integer(field::kDoseNumber, dose.second)},
                 v);
    }
    // A yearly school health check (growth) and now and then an acute visit.
    const bool girl = m_p.sex == "female";
    const double heightBias = m_rng.noise(6.0);
    const double weightBias = m_rng.noise(0.12);
    const bool asthma = m_rng.chance(12);
    if (asthma) {
      const std::int64_t onset = std::max(m_p.birthDays + 700, m_from - 200);
      problem(kAsthma, onset);
      medication(Med{"Salbutamol 100 microgram inhaler", "2 puffs", "inhalation", "as needed"}, onset);
    }
    for (std::int64_t day : visitDays(std::max(1, static_cast<int>((m_today - m_from) / 365)))) {
      const double age = ageAt(day);
      if (age < 4.0) continue;
      const ChartPlan::Slot v = visit(day, "school", "School health check", "School health room");
      const double height =
          (girl ? 100.0 + (age - 4.0) * 5.0 : 101.0 + (age - 4.0) * 5.6) + heightBias + m_rng.noise(0.5);
      const double cappedHeight = std::min(height, girl ? 168.0 : 182.0);
      const double bmi = (15.5 + std::max(0.0, age - 6.0) * 0.45) * (1.0 + weightBias) + m_rng.noise(0.3);
      const double weight = bmi * cappedHeight * cappedHeight / 10000.0;
      vital(loinc::kBodyHeight, cappedHeight, v, 1);
      vital(loinc::kBodyWeight, weight, v, 1);
      vital(loinc::kBmi, weight / (cappedHeight * cappedHeight / 10000.0), v, 1);
      vital(loinc::kHeartRate, 100.0 - age * 2.2 + m_rng.noise(8), v);
      if (m_rng.chance(25)) {
        const std::int64_t sick = std::min(m_today - 1, day + m_rng.between(20, 200));
        const ChartPlan::Slot a =
            visit(sick, "school", m_rng.chance(50) ? "Fever and sore throat" : "Headache", "School health room");
        vital(loinc::kBodyTemperature, 38.2 + m_rng.noise(0.7), a, 1);
        vital(loinc::kHeartRate, 110.0 - age * 2.0 + m_rng.noise(10), a);
        vital(loinc::kPainScore, m_rng.between(2, 6), a);
      }
    }
  }

  void adult() {
    const bool hypertension = m_index == 1 ? false : m_rng.chance(30);
    const bool lipids = m_rng.chance(20);
    const bool asthma = m_rng.chance(10);
    const double sys0 = hypertension ? 150.0 + m_rng.noise(8) : 118.0 + m_rng.noise(10);
    const double dia0 = hypertension ? 94.0 + m_rng.noise(5) : 76.0 + m_rng.noise(6);
    const double height = (m_p.sex == "female" ? 165.0 : 178.0) + m_rng.noise(8);
    const double weight = (m_p.sex == "female" ? 66.0 : 80.0) + m_rng.noise(14);
    const double weightTrend = m_rng.noise(1.5);  // kg per year
    const std::vector<std::int64_t> days = visitDays(std::max(2, static_cast<int>((m_today - m_from) / 365) * 3 / 2));
    std::int64_t treatedFrom = std::numeric_limits<std::int64_t>::max();
    bool first = true;
    for (std::int64_t day : days) {
      const bool yearly = first || m_rng.chance(50);
      const ChartPlan::Slot v = visit(day, "workplace",
                                      yearly             ? "Occupational health check"
                                      : m_rng.chance(50) ? "Back pain"
                                                         : "Flu-like illness",
                                      "Workplace clinic, Logistics Centre North");
      const double years = static_cast<double>(day - m_from) / 365.25;
      const double treated = day >= treatedFrom ? std::min(1.0, static_cast<double>(day - treatedFrom) / 120.0) : 0.0;
      vital(loinc::kSystolicBp, sys0 + years * 1.2 - treated * 18.0 + m_rng.noise(7), v);
      vital(loinc::kDiastolicBp, dia0 + years * 0.5 - treated * 9.0 + m_rng.noise(5), v);
      vital(loinc::kHeartRate, 72.0 + m_rng.noise(10), v);
      if (first) vital(loinc::kBodyHeight, height, v, 1);
      const double w = weight + weightTrend * years + m_rng.noise(1.0);
      vital(loinc::kBodyWeight, w, v, 1);
      vital(loinc::kBmi, w / (height * height / 10000.0), v, 1);
      if (!yearly) vital(loinc::kBodyTemperature, 37.4 + m_rng.noise(0.8), v, 1);
      if (first && hypertension) {
        problem(kHypertension, day - m_rng.between(30, 900), v);
        medication(Med{m_rng.chance(50) ? "Amlodipine 5 mg" : "Lisinopril 10 mg", "1 tablet", "oral", "once daily"},
                   day, v);
        treatedFrom = day;
      }
      if (first && lipids) {
        problem(kHyperlipidaemia, day - m_rng.between(30, 900), v);
        lab("2093-3", 235.0 + m_rng.noise(20), "mg/dL", 0, 200, v, 0);
        medication(Med{"Atorvastatin 20 mg", "1 tablet", "oral", "once daily at night"}, day, v);
      }
      if (first && asthma) {
        problem(kAsthma, m_p.birthDays + m_rng.between(2000, 6000));
        medication(Med{"Salbutamol 100 microgram inhaler", "2 puffs", "inhalation", "as needed"}, day, v);
      }
      if (!yearly && m_rng.chance(40)) {  // a short course, stopped
        // (Never an NSAID for someone with an allergy recorded.)
        const ChartPlan::Slot med =
            medication(m_hasAllergy ? Med{"Paracetamol 500 mg", "2 tablets", "oral", "four times daily"}
                                    : Med{"Ibuprofen 400 mg", "1 tablet", "oral", "three times daily"},
                       day, v);
        m_plan.status(med, EntryStatus::kStopped, "Pain resolved");
      }
      first = false;
    }
  }

  void elder() {
    const bool hypertension = m_rng.chance(75);
    const bool diabetes = m_rng.chance(45);
    const bool copd = m_rng.chance(30);
    const bool heartFailure = m_rng.chance(30);
    const bool knee = m_rng.chance(35);
    const std::int64_t before = m_from - m_rng.between(200, 3000);
    ChartPlan::Slot metformin = ChartPlan::kNone;
    if (hypertension) {
      problem(kHypertension, before - m_rng.between(0, 2000));
      medication(Med{"Amlodipine 5 mg", "1 tablet", "oral", "once daily"}, before);
    }
    if (diabetes) {
      problem(kDiabetes, before - m_rng.between(0, 1500));
      metformin = medication(Med{"Metformin 500 mg", "1 tablet", "oral", "twice daily with meals"}, before);
    }
    if (copd) {
      problem(kCopd, before - m_rng.between(0, 1500));
      medication(Med{"Tiotropium 18 microgram inhaler", "1 capsule inhaled", "inhalation", "once daily"}, before);
      medication(Med{"Salbutamol 100 microgram inhaler", "2 puffs", "inhalation", "as needed"}, before);
    }
    if (heartFailure) {
      problem(kHeartFailure, before);
      medication(Med{"Furosemide 40 mg", "1 tablet", "oral", "once daily in the morning"}, before);
      medication(Med{"Bisoprolol 2.5 mg", "1 tablet", "oral", "once daily"}, before);
    }
    if (knee) {
      problem(kOsteoarthritis, before - m_rng.between(0, 3000));
      medication(Med{"Paracetamol 500 mg", "2 tablets", "oral", "up to four times daily as needed"}, before);
    }

    const double sys0 = hypertension ? 152.0 + m_rng.noise(10) : 132.0 + m_rng.noise(10);
    const double dia0 = hypertension ? 88.0 + m_rng.noise(6) : 78.0 + m_rng.noise(6);
    const double weight0 = (m_p.sex == "female" ? 64.0 : 76.0) + m_rng.noise(12);
    const double spo2Base = copd ? 92.5 : 96.5;
    const double hba1c0 = diabetes ? 7.4 + m_rng.noise(0.6) : 5.3 + m_rng.noise(0.2);
    const double creat0 = (m_p.sex == "female" ? 0.9 : 1.05) + m_rng.noise(0.15);
    const int years = static_cast<int>((m_today - m_from) / 365);
    const std::vector<std::int64_t> days = visitDays(std::max(3, years * 7));
    std::int64_t nextLab = m_from;
    bool metforminHeld = false;
    for (std::size_t i = 0; i < days.size(); ++i) {
      const std::int64_t day = days[i];
      const double t = static_cast<double>(day - m_from) / 365.25;  // years into the record
      const bool exacerbation = copd && m_rng.chance(8);
      const bool decompensated = heartFailure && m_rng.chance(6);
      const std::string reason = exacerbation    ? "Increasing breathlessness and cough"
                                 : decompensated ? "Ankle swelling and weight gain"
                                                 : "Routine home visit";
      const ChartPlan::Slot v = visit(day, "home", reason, "Patient's home");
      vital(loinc::kSystolicBp, sys0 - (hypertension ? std::min(t, 2.0) * 6.0 : 0.0) + t * 0.8 + m_rng.noise(8), v);
      vital(loinc::kDiastolicBp, dia0 - (hypertension ? std::min(t, 2.0) * 3.0 : 0.0) + m_rng.noise(5), v);
      vital(loinc::kHeartRate, (heartFailure ? 68.0 : 74.0) + (exacerbation ? 18.0 : 0.0) + m_rng.noise(8), v);
      vital(loinc::kSpO2, spo2Base - (exacerbation ? 5.0 : 0.0) - t * (copd ? 0.3 : 0.0) + m_rng.noise(1.5), v);
      vital(loinc::kRespiratoryRate, (copd ? 19.0 : 16.0) + (exacerbation ? 7.0 : 0.0) + m_rng.noise(2), v);
      vital(loinc::kBodyWeight, weight0 - t * 0.6 + (decompensated ? 3.5 : 0.0) + m_rng.noise(0.8), v, 1);
      if (exacerbation || m_rng.chance(15)) {
        vital(loinc::kBodyTemperature, (exacerbation ? 37.9 : 36.8) + m_rng.noise(0.5), v, 1);
      }
      if (knee) vital(loinc::kPainScore, m_rng.between(1, 6), v);
      if (exacerbation) {
        const ChartPlan::Slot pred =
            medication(Med{"Prednisolone 40 mg", "1 tablet", "oral", "once daily for 5 days"}, day, v);
        m_plan.status(pred, EntryStatus::kCompleted, {});
      }
      if (day >= nextLab) {  // laboratory results about twice a year
        nextLab = day + 170;
        const double creat = creat0 + t * 0.06 + m_rng.noise(0.1) + (i + 3 >= days.size() && diabetes ? 0.5 : 0.0);
        lab("2160-0", creat, "mg/dL", 0.6, 1.2, v, 2);
        lab("2823-3", 4.3 + (heartFailure ? 0.3 : 0.0) + m_rng.noise(0.5), "mmol/L", 3.5, 5.1, v, 1);
        if (diabetes) {
          lab("4548-4", hba1c0 - std::min(t, 1.5) * 0.5 + m_rng.noise(0.4), "%", 4.0, 5.6, v, 1);
          lab("2339-0", 145.0 + m_rng.noise(25), "mg/dL", 70, 99, v, 0);
          if (creat > 1.6 && metformin != ChartPlan::kNone && !metforminHeld) {
            m_plan.status(metformin, EntryStatus::kOnHold, "Creatinine raised: kidney function to be reviewed");
            metforminHeld = true;
          }
        }
      }
    }
    if (hypertension && m_rng.chance(30) && !days.empty()) {
      // A drug stopped during the record, with its reason.
      const ChartPlan::Slot v = m_visits.back();
      const ChartPlan::Slot med =
          medication(Med{"Hydrochlorothiazide 25 mg", "1 tablet", "oral", "once daily"}, days.front(), v);
      m_plan.status(med, EntryStatus::kStopped, "Low sodium on recent results");
    }
  }

  // Notes: a signed note on about a third of the visits, an addendum on one
  // of them, and for one patient in four an open draft on the latest visit.
  void notes() {
    static const char* const kFindings[] = {
        "Patient well. Vital signs reviewed, no changes to medication.",
        "Discussed medication adherence; patient manages own tablets.",
        "Reviewed inhaler technique; good technique demonstrated.",
        "Growth on its centile. Vaccination record checked with the family.",
        "Blood pressure above target; recheck at next visit.",
        "Feet inspected: skin intact, pulses present.",
    };
    ChartPlan::Slot lastSigned = ChartPlan::kNone;
    for (std::size_t i = 0; i + 1 < m_visits.size(); ++i) {
      if (!m_rng.chance(33)) continue;
      const std::string textNow = m_rng.pick(kFindings);
      const ChartPlan::Slot n = m_plan.startNote(textNow, m_visits[i]);
      m_plan.signNote(n, textNow + " Plan: continue, review at the next visit.");
      lastSigned = n;
    }
    if (lastSigned != ChartPlan::kNone && m_rng.chance(50)) {
      m_plan.addendum(lastSigned, "Addendum: spoke with the family doctor by phone; plan confirmed.");
    }
    if (!m_visits.empty() && m_rng.chance(25)) {
      const ChartPlan::Slot n = m_plan.startNote("Visit in progress: ", m_visits.back());
      m_plan.editNote(n, std::string("Visit in progress: ") + m_rng.pick(kFindings) + " To finish after the call.");
    }
  }

  ChartPlan& m_plan;
  Rng& m_rng;
  std::int64_t m_today;
  std::int64_t m_from;
  std::size_t m_index;
  std::uint64_t m_seed;
  Person m_p;
  bool m_hasAllergy = false;
  std::vector<ChartPlan::Slot> m_visits;
  std::int64_t m_visitStart = 0;
};

}  // namespace

Result<std::vector<std::string>> DemoCharts::create(Replica& replica, const DemoOptions& options) {
  if (options.years < 1 || options.years > 50) return Status::invalidArgument("years must be 1 to 50");
  std::int64_t today = 0;
  if (options.today.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    today = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / kDayMs;
  } else if (!parseToday(options.today, today)) {
    return Status::invalidArgument("today must be a date YYYY-MM-DD, not '" + options.today + "'");
  }
  std::vector<std::string> ids;
  ids.reserve(options.patients);
  for (std::size_t i = 0; i < options.patients; ++i) {
    Rng rng(options.seed * 0x100000001B3ull + i);
    ChartPlan plan;
    PatientWriter(plan, rng, today, options.years, i, options.seed).write();
    const std::string patient = Replica::newPatientId();
    auto ops = replica.editBatch(patient, plan.makes());
    if (!ops.isOk()) {
      Status st = ops.status();
      if (st.code() == Status::Code::kRejected) {
        st = Status::rejected("demo patient " + std::to_string(i + 1) + ": " + st.message());
      }
      return st;
    }
    ids.push_back(patient);
  }
  return ids;
}

}  // namespace charta::sync
