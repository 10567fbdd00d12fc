// CallError's behaviour and the mapping from an HTTP status to a CallError:
// what every Transport shares, with no HTTP library in sight (the cpprestsdk
// adapter is transport_cpprest.cc).

#include "charta/sync/transport.h"

#include <string>
#include <string_view>
#include <utility>

namespace charta::sync {

bool CallError::retryable() const {
  return kind == Kind::kNetwork || kind == Kind::kServer || kind == Kind::kThrottled;
}

std::string CallError::toString() const {
  std::string out(callErrorKindName(kind));
  out += ": ";
  if (httpStatus != 0) {
    out += "HTTP " + std::to_string(httpStatus);
    if (!code.empty()) out += " " + code;
    if (!message.empty()) out += ": ";
  }
  out += message;
  if (retryAfterSeconds > 0) out += " (retry after " + std::to_string(retryAfterSeconds) + " s)";
  return out;
}

std::string_view callErrorKindName(CallError::Kind kind) {
  switch (kind) {
    case CallError::Kind::kNetwork: return "network";
    case CallError::Kind::kServer: return "server";
    case CallError::Kind::kThrottled: return "throttled";
    case CallError::Kind::kAuth: return "auth";
    case CallError::Kind::kRevoked: return "revoked";
    case CallError::Kind::kForbidden: return "forbidden";
    case CallError::Kind::kRefused: return "refused";
    case CallError::Kind::kProtocol: return "protocol";
  }
  return "unknown";
}

CallError callErrorForStatus(int httpStatus, std::string code, std::string message, int retryAfterSeconds, bool wipe) {
  CallError error;
  error.httpStatus = httpStatus;
  error.code = std::move(code);
  error.message = std::move(message);
  if (httpStatus >= 500 && httpStatus <= 599) {
    error.kind = CallError::Kind::kServer;
  } else if (httpStatus == 429) {
    error.kind = CallError::Kind::kThrottled;
  } else if (httpStatus == 401) {
    error.kind = CallError::Kind::kAuth;
  } else if (httpStatus == 403) {
    error.kind = CallError::Kind::kForbidden;
  } else if (httpStatus == 410 && wipe && error.code == "device_revoked") {
    error.kind = CallError::Kind::kRevoked;
  } else if (httpStatus >= 400 && httpStatus <= 499) {
    error.kind = CallError::Kind::kRefused;
  } else {
    // 1xx, 3xx (no redirect is followed) or a number outside HTTP's range.
    error.kind = CallError::Kind::kProtocol;
    if (error.message.empty()) error.message = "unexpected HTTP status " + std::to_string(httpStatus);
  }
  // Retry-After only means something where a retry is expected.
  if (error.kind == CallError::Kind::kThrottled || error.kind == CallError::Kind::kServer) {
    error.retryAfterSeconds = retryAfterSeconds > 0 ? retryAfterSeconds : 0;
  }
  return error;
}

namespace {

CallError noAttachments() {
  CallError error;
  error.kind = CallError::Kind::kRefused;
  error.code = "unsupported";
  error.message = "this transport does not carry attachments";
  return error;
}

}  // namespace

Reply<AttachmentStatus> Transport::declareAttachment(const DeviceCredential&, std::string_view, std::string_view,
                                                     std::string_view, std::uint64_t, std::string_view) {
  return noAttachments();
}

Reply<AttachmentStatus> Transport::putAttachmentChunk(const DeviceCredential&, std::string_view, std::string_view,
                                                      std::string_view, std::uint64_t, std::string_view) {
  return noAttachments();
}

Reply<AttachmentStatus> Transport::attachmentStatus(const DeviceCredential&, std::string_view, std::string_view,
                                                    std::string_view) {
  return noAttachments();
}

Reply<std::string> Transport::attachmentChunk(const DeviceCredential&, std::string_view, std::string_view,
                                              std::string_view, std::uint64_t) {
  return noAttachments();
}

}  // namespace charta::sync
