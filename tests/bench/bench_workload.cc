#include "bench_workload.h"

#include <array>
#include <fstream>

namespace charta::bench {
namespace {

constexpr std::uint64_t kSeed = 0x43484152'54410001ull;  // fixed: every run is the same
constexpr std::uint64_t kEpochMs = 1'714'550'400'000ull;  // 2024-05-01T08:00:00Z
constexpr std::uint64_t kApplyStepMs = 40;   // one write every 40 ms across all devices
constexpr std::uint64_t kMergeStepMs = 250;  // one write every 250 ms per side
constexpr std::uint32_t kMergeBaseReplica = 3;
constexpr std::uint32_t kMergeReplicaA = 1;
constexpr std::uint32_t kMergeReplicaB = 2;

// splitmix64: small, fast and the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for the small n used here.
  std::uint32_t below(std::size_t n) { return static_cast<std::uint32_t>(next() % n); }

 private:
  std::uint64_t m_state;
};

constexpr std::array<std::string_view, 24> kFamilyNames = {
    "Okafor", "Wanjiru", "Mensah", "Haddad", "Nguyen", "Kowalski", "Silva",   "Osei",
    "Kamau",  "Ibrahim", "Mwangi", "Dubois", "Petrov", "Tanaka",   "Otieno",  "Achieng",
    "Diallo", "Santos",  "Moyo",   "Banda",  "Farah",  "Kiplagat", "Abubakar", "Nakamura",
};
constexpr std::array<std::string_view, 20> kGivenNames = {
    "Amina", "Grace",  "Joseph", "Fatuma", "David", "Wambui", "Kofi",  "Esther", "Ali",  "Mary",
    "Peter", "Njeri",  "Samuel", "Aisha",  "John",  "Halima", "Brian", "Zawadi", "Omar", "Ruth",
};
constexpr std::array<std::string_view, 4> kSexes = {"female", "male", "other", "unknown"};
constexpr std::array<std::string_view, 12> kStreets = {
    "Moi Ave",  "Kenyatta Rd", "Ngong Rd",   "Biashara St", "Market Ln", "Station Rd",
    "Hospital Rd", "Mission Rd", "Lake View", "Kilimo Rd",  "School Ln", "River Rd",
};
constexpr std::array<std::string_view, 8> kTowns = {
    "Nakuru", "Kisumu", "Eldoret", "Thika", "Machakos", "Nyeri", "Meru", "Kitale",
};
constexpr std::array<std::string_view, 10> kLanguages = {"en", "sw", "fr", "so", "am",
                                                         "ar", "pt", "ha", "yo", "zu"};

template <std::size_t N>
std::string_view pick(Rng& rng, const std::array<std::string_view, N>& pool) {
  return pool[rng.below(N)];
}

std::string padded(std::uint32_t n, std::size_t width) {
  std::string s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

std::string digits(Rng& rng, std::size_t count) {
  std::string s;
  for (std::size_t i = 0; i < count; ++i) s += static_cast<char>('0' + rng.below(10));
  return s;
}

std::string makeValue(Rng& rng, std::size_t fieldIndex) {
  switch (kBenchFields[fieldIndex]) {
    case crdt::field::kFamilyName:
      return std::string(pick(rng, kFamilyNames));
    case crdt::field::kGivenNames: {
      std::string s(pick(rng, kGivenNames));
      if (rng.below(2) == 0) s += ' ' + std::string(pick(rng, kGivenNames));
      return s;
    }
    case crdt::field::kBirthDate:
      return padded(1930 + rng.below(91), 4) + '-' + padded(1 + rng.below(12), 2) + '-' +
             padded(1 + rng.below(28), 2);
    case crdt::field::kSex:
      return std::string(pick(rng, kSexes));
    case crdt::field::kAddress:
      return std::to_string(1 + rng.below(999)) + ' ' + std::string(pick(rng, kStreets)) + ", " +
             std::string(pick(rng, kTowns));
    case crdt::field::kPhone:
      return "+254 7" + digits(rng, 2) + ' ' + digits(rng, 3) + ' ' + digits(rng, 3);
    case crdt::field::kLanguage:
      return std::string(pick(rng, kLanguages));
    default:
      return "x" + digits(rng, 6);
  }
}

// A value different from `current` (the writer never writes what it sees).
std::string freshValue(Rng& rng, std::size_t fieldIndex, const std::string& current) {
  for (;;) {
    std::string v = makeValue(rng, fieldIndex);
    if (v != current) return v;
  }
}

// `count` writes by one replica to patient 0, starting from `seen` (the
// writer's view of each field), at startMs + i * kMergeStepMs.
std::vector<Write> mergeSide(Rng& rng, std::uint32_t replica, std::size_t count, std::uint64_t startMs,
                             std::vector<std::string> seen) {
  std::vector<Write> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t f = rng.below(kBenchFieldCount);
    std::string v = freshValue(rng, f, seen[f]);
    seen[f] = v;
    out.push_back({replica, 0, f, startMs + i * kMergeStepMs, std::move(v)});
  }
  return out;
}

}  // namespace

WorkloadSize fullSize() { return {}; }

WorkloadSize quickSize() {
  WorkloadSize s;
  s.writes /= 20;
  s.patients /= 20;
  s.mergeWrites /= 20;
  return s;
}

std::string_view benchFieldName(std::size_t index) {
  const auto spec = crdt::findField(crdt::Collection::kDemographics, kBenchFields[index]);
  return spec ? spec->name : std::string_view("unknown");
}

std::string patientId(std::uint32_t index) { return "patient-" + std::to_string(index); }

std::string userOf(std::uint32_t replica) { return "nurse-" + std::to_string(replica); }

Workload makeWorkload(const WorkloadSize& size) {
  Workload wl;
  wl.size = size;
  Rng rng(kSeed);

  // Apply: every write sees all earlier writes (one shared history per patient).
  std::vector<std::string> current(size.patients * kBenchFieldCount);
  wl.apply.reserve(size.writes);
  for (std::size_t i = 0; i < size.writes; ++i) {
    const auto replica = static_cast<std::uint32_t>(1 + rng.below(size.replicas));
    const std::uint32_t patient = rng.below(size.patients);
    const std::uint32_t f = rng.below(kBenchFieldCount);
    std::string& slot = current[std::size_t{patient} * kBenchFieldCount + f];
    std::string v = freshValue(rng, f, slot);
    slot = v;
    wl.apply.push_back({replica, patient, f, kEpochMs + i * kApplyStepMs, std::move(v)});
  }

  // Merge: a base both sides saw, then two concurrent histories.
  std::vector<std::string> base(kBenchFieldCount);
  for (std::uint32_t f = 0; f < kBenchFieldCount; ++f) {
    base[f] = makeValue(rng, f);
    wl.mergeBase.push_back({kMergeBaseReplica, 0, f, kEpochMs + f, base[f]});
  }
  const std::uint64_t sideStart = kEpochMs + 60'000;
  wl.mergeA = mergeSide(rng, kMergeReplicaA, size.mergeWrites, sideStart, base);
  wl.mergeB = mergeSide(rng, kMergeReplicaB, size.mergeWrites, sideStart + kMergeStepMs / 2, base);
  return wl;
}

crdt::Status writeWorkloadFile(const Workload& wl, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return crdt::Status::invalidArgument("cannot write the workload file " + path);
  out << "fields";
  for (std::size_t f = 0; f < kBenchFieldCount; ++f) out << '\t' << benchFieldName(f);
  out << "\npatients\t" << wl.size.patients << '\n';
  const auto section = [&out](std::string_view kind, const std::vector<Write>& writes) {
    for (const Write& w : writes) {
      out << kind << '\t' << w.replica << '\t' << w.patient << '\t' << w.field << '\t' << w.timeMs << '\t'
          << w.value << '\n';
    }
  };
  section("w", wl.apply);
  section("mb", wl.mergeBase);
  section("ma", wl.mergeA);
  section("mx", wl.mergeB);
  out.flush();
  if (!out) return crdt::Status::invalidArgument("failed writing the workload file " + path);
  return crdt::Status::ok();
}

void StateDigest::add(std::uint32_t patient, std::size_t field, std::string_view value) {
  const auto feed = [this](std::string_view bytes) {
    for (const char c : bytes) {
      m_hash ^= static_cast<unsigned char>(c);
      m_hash *= 0x100000001b3ull;
    }
  };
  feed(std::to_string(patient));
  feed("\t");
  feed(benchFieldName(field));
  feed("\t");
  feed(value);
  feed("\n");
}

std::string StateDigest::hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (std::size_t i = 0; i < 16; ++i) s[15 - i] = kHex[(m_hash >> (4 * i)) & 0xF];
  return s;
}

}  // namespace charta::bench
