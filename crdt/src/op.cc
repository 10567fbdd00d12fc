#include "charta/crdt/op.h"

#include <algorithm>

namespace charta::crdt {

std::string toString(const OpId& id) {
  if (id.isNull()) return "-";
  return "r" + std::to_string(id.replica.value) + "." + std::to_string(id.seq);
}

std::string toPath(const FieldRef& ref) {
  std::string path(collectionName(ref.collection));
  if (ref.collection != Collection::kDemographics) path += "[" + toString(ref.entry) + "]";
  path += ".";
  const auto spec = findField(ref.collection, ref.field);
  path += spec ? std::string(spec->name) : "field" + std::to_string(ref.field);
  return path;
}

std::string_view opKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kAddEntry: return "AddEntry";
    case OpKind::kWriteField: return "WriteField";
    case OpKind::kAppendObservation: return "AppendObservation";
    case OpKind::kMarkObservationError: return "MarkObservationError";
    case OpKind::kStartNote: return "StartNote";
    case OpKind::kEditNote: return "EditNote";
    case OpKind::kSignNote: return "SignNote";
    case OpKind::kAddAddendum: return "AddAddendum";
    case OpKind::kUnknown: return "a kind of a newer release";
  }
  return "unknown";
}

std::vector<OpId> dependenciesOf(const Op& op) {
  std::vector<OpId> deps;
  forEachReference(op, [&deps](const OpId& id) {
    if (!id.isNull()) deps.push_back(id);
  });
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  return deps;
}

}  // namespace charta::crdt
