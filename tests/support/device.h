// A device for tests: its clock, its op factory and its copy of one chart.
#pragma once

#include <string>

#include "charta/crdt/chart_document.h"
#include "charta/crdt/op_factory.h"
#include "support/fake_clock.h"

namespace charta::testing {

struct Device {
  Device(std::uint64_t replica, std::string user, std::string patient = "patient-1")
      : factory(crdt::ReplicaId{replica}, clock), doc(std::move(patient)) {
    factory.setUser(std::move(user));
  }

  // Applies a local op and returns it, so it can be sent to other devices.
  crdt::Op local(crdt::Op op) {
    auto r = doc.apply(op);
    lastStatus = r.status();
    return op;
  }

  FakeWallClock clock;
  crdt::OpFactory factory;
  crdt::ChartDocument doc;
  crdt::Status lastStatus;
};

}  // namespace charta::testing
