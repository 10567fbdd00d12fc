#include "report.h"

namespace charta::convergence {

void Counters::add(const Counters& o) {
  histories += o.histories;
  ops += o.ops;
  invalidOps += o.invalidOps;
  rejections += o.rejections;
  applyCalls += o.applyCalls;
  held += o.held;
  duplicates += o.duplicates;
  antiEntropyRounds += o.antiEntropyRounds;
  partitions += o.partitions;
  skewClamped += o.skewClamped;
  conflictsSeen += o.conflictsSeen;
  noteConflicts += o.noteConflicts;
  resolutions += o.resolutions;
  silentOverwrites += o.silentOverwrites;
  entries += o.entries;
  observations += o.observations;
  notes += o.notes;
  signatures += o.signatures;
  addenda += o.addenda;
}

std::string Counters::summary() const {
  auto kv = [](const char* k, std::uint64_t v) { return std::string(k) + "=" + std::to_string(v); };
  return kv("histories", histories) + " " + kv("ops", ops) + " " + kv("invalid", invalidOps) + " " +
         kv("rejections", rejections) + " " + kv("applies", applyCalls) + " " + kv("held", held) + " " +
         kv("duplicates", duplicates) + " " + kv("antiEntropy", antiEntropyRounds) + " " +
         kv("partitions", partitions) + " " + kv("skewClamped", skewClamped) + " " +
         kv("conflicts", conflictsSeen) + " " + kv("noteConflicts", noteConflicts) + " " +
         kv("resolutions", resolutions) + " " + kv("silentOverwrites", silentOverwrites) + " " +
         kv("entries", entries) + " " + kv("observations", observations) + " " + kv("notes", notes) + " " +
         kv("signatures", signatures) + " " + kv("addenda", addenda);
}

std::string Failures::joined() const {
  std::string out;
  for (const auto& f : m_items) out += "  " + f + "\n";
  if (m_total > m_items.size()) out += "  ... and " + std::to_string(m_total - m_items.size()) + " more\n";
  return out;
}

}  // namespace charta::convergence
