// Status and Result<T>: errors as values.
//
// Every fallible call in charta returns a Status (or a Result<T> holding either
// a value or a non-ok Status). No exception crosses a module's public header.
// A Status is a small value type; copying it copies the message.
//
// Thread-safety: values, no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace charta::crdt {

class Status {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,
    kInvalidArgument,     // the caller asked for something malformed
    kCorruption,          // bytes that do not decode (hostile or damaged input)
    kRejected,            // a well-formed op that breaks a clinical rule
    kNotFound,
    kClockSkew,           // a remote clock outside the allowed drift
    kUnsupportedVersion,  // an encoding from a newer, incompatible format
    kAlreadyExists,       // a unique name or key that is taken
    kIoError,             // the environment failed: disk, database, network
  };

  Status() = default;  // ok

  static Status ok() { return Status(); }
  static Status invalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status rejected(std::string msg) { return {Code::kRejected, std::move(msg)}; }
  static Status notFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status clockSkew(std::string msg) { return {Code::kClockSkew, std::move(msg)}; }
  static Status unsupportedVersion(std::string msg) { return {Code::kUnsupportedVersion, std::move(msg)}; }
  static Status alreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status ioError(std::string msg) { return {Code::kIoError, std::move(msg)}; }

  bool isOk() const { return m_code == Code::kOk; }
  Code code() const { return m_code; }
  const std::string& message() const { return m_message; }

  // "ok" or "<code name>: <message>".
  std::string toString() const;

 private:
  Status(Code code, std::string msg) : m_code(code), m_message(std::move(msg)) {}

  Code m_code = Code::kOk;
  std::string m_message;
};

std::string_view codeName(Status::Code code);

// Either a T or a non-ok Status.
// REQUIRES: a Result is never built from an ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : m_data(std::move(value)) {}            // NOLINT(implicit)
  Result(Status status) : m_data(std::move(status)) {}      // NOLINT(implicit)

  bool isOk() const { return std::holds_alternative<T>(m_data); }
  // REQUIRES: isOk()
  const T& value() const& { return std::get<T>(m_data); }
  T& value() & { return std::get<T>(m_data); }
  T&& value() && { return std::get<T>(std::move(m_data)); }
  // ok() when a value is held.
  Status status() const { return isOk() ? Status::ok() : std::get<Status>(m_data); }

 private:
  std::variant<T, Status> m_data;
};

}  // namespace charta::crdt
