# Runs `charta-bench crdt --json` and checks its report (the crdt_bench test).
#
#   cmake -DBENCH=<charta-bench> -DOUT=<report.json> [-DARGS=--quick] -P check_bench.cmake
#
# Fails when the bench exits non-zero, the report is not one well-formed JSON
# object, a required figure is missing, zero, negative or not a number, a peer
# key is not "automerge-<version>" / "yjs-<version>", or any cross-check
# (Charta's and the peers' resulting states) is false. Speed goals are not
# asserted: the machines that run this are shared and noisy.
cmake_minimum_required(VERSION 3.25)
set(SUITE crdt)
include(${CMAKE_CURRENT_LIST_DIR}/bench_report_common.cmake)

set(required apply_remote_writes merge_diverged_replicas bytes_per_write_update bytes_per_write_batch peak_rss_apply)
string(JSON count ERROR_VARIABLE err LENGTH "${report}" results)
if(err OR count EQUAL 0)
  problem("results is missing or empty")
  set(count 0)
endif()
set(seen "")
if(count GREATER 0)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON name ERROR_VARIABLE err GET "${report}" results ${i} name)
    string(JSON unit ERROR_VARIABLE err2 GET "${report}" results ${i} unit)
    if(err OR err2)
      problem("result ${i} has no name or unit")
      continue()
    endif()
    list(APPEND seen "${name}")
    check_positive("${name}.charta" results ${i} charta)
    string(JSON npeers ERROR_VARIABLE err LENGTH "${report}" results ${i} peers)
    if(err OR NOT npeers EQUAL 2)
      problem("${name}.peers must hold exactly automerge-<version> and yjs-<version>")
      continue()
    endif()
    set(have_automerge FALSE)
    set(have_yjs FALSE)
    foreach(k 0 1)
      string(JSON peer MEMBER "${report}" results ${i} peers ${k})
      if(peer MATCHES "^automerge-[0-9]+\\.[0-9]+\\.[0-9]+")
        set(have_automerge TRUE)
      elseif(peer MATCHES "^yjs-[0-9]+\\.[0-9]+\\.[0-9]+")
        set(have_yjs TRUE)
      endif()
      check_positive("${name}.peers.${peer}" results ${i} peers "${peer}")
    endforeach()
    if(NOT have_automerge OR NOT have_yjs)
      problem("${name}.peers keys are not automerge-<version> and yjs-<version>")
    endif()
  endforeach()
endif()
foreach(name IN LISTS required)
  if(NOT name IN_LIST seen)
    problem("result ${name} is missing")
  endif()
endforeach()
check_positive("node_idle_rss_mib" node_idle_rss_mib)

# Every cross-check must be true.
charta_bench_finish()
