#include "op_text.h"

namespace charta::convergence {

namespace {
std::string ids(const std::vector<crdt::OpId>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + crdt::toString(v[i]);
  return out + "}";
}
}  // namespace

std::string describeOp(const crdt::Op& op) {
  std::string out = crdt::toString(op.id) + " @" + crdt::toString(op.hlc) + " " + op.author + " " +
                    std::string(crdt::opKindName(crdt::kindOf(op.body))) + " ";
  out += std::visit(
      crdt::Overloaded{
          [](const crdt::AddEntry& b) {
            std::string s = std::string(crdt::collectionName(b.collection)) + " fields";
            for (const auto& f : b.fields) s += " " + std::to_string(f.field) + "=" + crdt::toDisplayString(f.value);
            return s + (b.visit.isNull() ? "" : " visit " + crdt::toString(b.visit));
          },
          [](const crdt::WriteField& b) {
            return crdt::toPath(b.target) + "=" + crdt::toDisplayString(b.value) + " preds " + ids(b.preds) +
                   (b.reason.empty() ? "" : " reason \"" + b.reason + "\"");
          },
          [](const crdt::AppendObservation& b) { return b.code + "=" + crdt::toDisplayString(b.value) + " " + b.unit; },
          [](const crdt::MarkObservationError& b) { return crdt::toString(b.target) + " \"" + b.reason + "\""; },
          [](const crdt::StartNote& b) { return "\"" + b.text + "\""; },
          [](const crdt::EditNote& b) { return crdt::toString(b.note) + " \"" + b.text + "\" preds " + ids(b.preds); },
          [](const crdt::SignNote& b) { return crdt::toString(b.note) + " \"" + b.text + "\" preds " + ids(b.preds); },
          [](const crdt::AddAddendum& b) {
            return crdt::toString(b.note) + " \"" + b.text + "\" preds " + ids(b.preds);
          },
          [](const crdt::UnknownOp& b) {
            return "kind " + std::to_string(b.kind) + ", " + std::to_string(b.body.size()) + " bytes";
          }},
      op.body);
  if (!op.context.empty()) out += " context " + ids(op.context);
  return out;
}

}  // namespace charta::convergence
