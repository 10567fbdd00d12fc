// ReplicaId and OpId: the identity of a device and of every change it makes.
//
// A replica id names one device (one tablet's replica, the server, an importer).
// Ids are assigned by the server at enrolment, so they are small and unique;
// 0 means "none". An OpId is (replica, seq) where seq counts that replica's ops
// from 1 upwards, across all patients: it is globally unique and never reused.
//
// OpIds have a total order (replica, then seq) used wherever a deterministic
// order of op identities is needed (canonical state, tie-breaks after the HLC).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace charta::crdt {

struct ReplicaId {
  std::uint64_t value = 0;

  bool isNull() const { return value == 0; }
  friend auto operator<=>(const ReplicaId&, const ReplicaId&) = default;
};

struct OpId {
  ReplicaId replica;
  std::uint64_t seq = 0;  // 1-based; 0 only in the null id

  bool isNull() const { return replica.isNull() && seq == 0; }
  friend bool operator==(const OpId& a, const OpId& b) { return a.replica == b.replica && a.seq == b.seq; }
  friend std::strong_ordering operator<=>(const OpId& a, const OpId& b) {
    if (auto c = a.replica.value <=> b.replica.value; c != 0) return c;
    return a.seq <=> b.seq;
  }
};

// "r<replica>.<seq>", e.g. "r7.42"; the null id is "-".
std::string toString(const OpId& id);

}  // namespace charta::crdt

template <>
struct std::hash<charta::crdt::ReplicaId> {
  std::size_t operator()(const charta::crdt::ReplicaId& r) const noexcept {
    return std::hash<std::uint64_t>{}(r.value);
  }
};

template <>
struct std::hash<charta::crdt::OpId> {
  std::size_t operator()(const charta::crdt::OpId& id) const noexcept {
    // splitmix-style mixing of both halves.
    std::uint64_t x = id.replica.value * 0x9E3779B97F4A7C15ull ^ (id.seq + 0x7F4A7C159E3779B9ull);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return static_cast<std::size_t>(x);
  }
};
