// Internal helpers shared by the action generator's files and the checks.
#pragma once

#include <vector>

#include "charta/crdt/chart_document.h"

namespace charta::convergence {

// The collections whose entries AddEntry creates.
inline constexpr crdt::Collection kEntryCollections[] = {
    crdt::Collection::kIdentifiers, crdt::Collection::kAllergies,     crdt::Collection::kProblems,
    crdt::Collection::kMedications, crdt::Collection::kImmunisations, crdt::Collection::kVisits,
    crdt::Collection::kAttachments};

inline bool isForwardStatus(crdt::Collection c) {
  return crdt::registerKindOf(c, crdt::kStatusField) == crdt::RegisterKind::kForwardStatus;
}

// The notes of a document that match a predicate, in id order.
template <typename Pred>
std::vector<const crdt::Note*> notesWhere(const crdt::ChartDocument& doc, Pred pred) {
  std::vector<const crdt::Note*> out;
  for (const auto& [id, note] : doc.notes())
    if (pred(note)) out.push_back(&note);
  return out;
}

}  // namespace charta::convergence
