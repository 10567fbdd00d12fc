#include "charta/crdt/chart_state.h"

namespace charta::crdt {

std::int64_t Entry::currentStatus() const {
  if (status.empty()) return static_cast<std::int64_t>(initialStatus(collection));
  const auto* s = std::get_if<std::int64_t>(&status.current().value);
  return s ? *s : static_cast<std::int64_t>(initialStatus(collection));
}

Value Entry::fieldValue(FieldId f) const {
  auto it = fields.find(f);
  if (it == fields.end() || it->second.empty()) return Value{};
  return it->second.current().value;
}

const RegisterWrite& Note::shownSignature() const {
  const RegisterWrite* latest = nullptr;
  for (const auto& [sigId, sig] : signatures) {
    if (latest == nullptr || sig.hlc > latest->hlc || (sig.hlc == latest->hlc && sig.id > latest->id)) latest = &sig;
  }
  return *latest;
}

std::vector<RegisterWrite> Note::openVersions() const {
  std::vector<RegisterWrite> open;
  const OpId shown = isSigned() ? shownSignature().id : OpId{};
  for (const RegisterWrite& head : draft.heads()) {
    const bool isSignature = signatures.contains(head.id);
    if (!isSignature || head.id == shown || !acknowledged.contains(head.id)) open.push_back(head);
  }
  return open;
}

const std::string& Note::text() const {
  static const std::string kEmpty;
  if (!signatures.empty()) {
    const auto* signedText = std::get_if<std::string>(&shownSignature().value);
    return signedText ? *signedText : kEmpty;
  }
  if (draft.empty()) return kEmpty;
  const auto* text = std::get_if<std::string>(&draft.current().value);
  return text ? *text : kEmpty;
}

}  // namespace charta::crdt
