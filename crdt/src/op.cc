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
  }
  return "unknown";
}

std::vector<OpId> dependenciesOf(const Op& op) {
  std::vector<OpId> deps = op.context;
  auto add = [&deps](const OpId& id) {
    if (!id.isNull()) deps.push_back(id);
  };
  auto addAll = [&](const std::vector<OpId>& ids) {
    for (const OpId& id : ids) add(id);
  };
  std::visit(Overloaded{
                 [&](const AddEntry& b) { add(b.visit); },
                 [&](const WriteField& b) {
                   add(b.target.entry);
                   addAll(b.preds);
                 },
                 [&](const AppendObservation& b) { add(b.visit); },
                 [&](const MarkObservationError& b) { add(b.target); },
                 [&](const StartNote& b) { add(b.visit); },
                 [&](const EditNote& b) {
                   add(b.note);
                   addAll(b.preds);
                 },
                 [&](const SignNote& b) {
                   add(b.note);
                   addAll(b.preds);
                 },
                 [&](const AddAddendum& b) {
                   add(b.note);
                   addAll(b.preds);
                 },
             },
             op.body);
  std::erase_if(deps, [](const OpId& id) { return id.isNull(); });
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  return deps;
}

}  // namespace charta::crdt
