#include "charta/crdt/status.h"

namespace charta::crdt {

std::string_view codeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kRejected: return "rejected";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kClockSkew: return "clock skew";
    case Status::Code::kUnsupportedVersion: return "unsupported version";
    case Status::Code::kAlreadyExists: return "already exists";
    case Status::Code::kIoError: return "I/O error";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string out(codeName(m_code));
  out += ": ";
  out += m_message;
  return out;
}

}  // namespace charta::crdt
