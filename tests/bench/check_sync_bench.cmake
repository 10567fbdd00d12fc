# Runs `charta-bench sync --json` and checks its report (the sync_bench test).
#
#   cmake -DBENCH=<charta-bench> -DOUT=<report.json> [-DARGS="--server-bin ... [--quick] [--skip-peer]"]
#         -P check_sync_bench.cmake
#
# Fails when the bench exits non-zero, the report is not one well-formed JSON
# object of suite "sync", a required figure is missing, zero, negative or not
# a number (the encryption overheads only need to be numbers: they may be
# negative), a run of (a) or (b) is missing, PouchDB's column or ratio is
# missing (unless --skip-peer), a goal lacks its fields, or any check in
# "checks" is false: every cold device held every patient and op with each
# chart equal to the chart as made, every incremental sync pushed every edit
# and pulled the other device's ops, the encrypted and unencrypted stores
# agree, unlock worked, and PouchDB pulled every document. Speed goals are not
# asserted: the machines that run this are shared and noisy.
cmake_minimum_required(VERSION 3.25)
set(SUITE sync)
include(${CMAKE_CURRENT_LIST_DIR}/bench_report_common.cmake)

set(with_peer TRUE)
if(ARGS MATCHES "--skip-peer")
  set(with_peer FALSE)
endif()

# (a) and (b): every run reported, each with its time, requests and bytes.
foreach(section cold_sync incremental_sync)
  string(JSON nruns ERROR_VARIABLE err LENGTH "${report}" ${section})
  if(err OR nruns LESS 1)
    problem("${section} is missing or empty")
    continue()
  endif()
  math(EXPR last "${nruns} - 1")
  foreach(i RANGE ${last})
    foreach(figure ms requests wire_bytes_received wire_bytes_sent pulled)
      check_positive("${section}[${i}].${figure}" ${section} ${i} ${figure})
    endforeach()
  endforeach()
endforeach()
string(JSON ncold ERROR_VARIABLE err LENGTH "${report}" cold_sync)
if(NOT err AND ncold LESS 3)
  problem("cold_sync holds ${ncold} runs, not 3")
endif()

# Results: every figure; PouchDB's column and the ratio where the peer has one.
set(required cold_sync cold_sync_requests cold_sync_bytes_per_op incremental_sync incremental_sync_requests
             incremental_bytes_per_op enrolment store_write_overhead store_read_overhead unlock)
set(with_pouch cold_sync cold_sync_requests cold_sync_bytes_per_op incremental_sync incremental_sync_requests
               incremental_bytes_per_op)
set(signed store_write_overhead store_read_overhead)
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
    if(name IN_LIST signed)
      string(JSON type ERROR_VARIABLE err TYPE "${report}" results ${i} charta)
      if(err OR NOT type STREQUAL "NUMBER")
        problem("${name}.charta is missing or not a number")
      endif()
    else()
      check_positive("${name}.charta" results ${i} charta)
    endif()
    if(with_peer AND name IN_LIST with_pouch)
      string(JSON npeers ERROR_VARIABLE err LENGTH "${report}" results ${i} peers)
      if(err OR NOT npeers EQUAL 1)
        problem("${name}.peers must hold exactly pouchdb-<version>")
        continue()
      endif()
      string(JSON peer MEMBER "${report}" results ${i} peers 0)
      if(NOT peer MATCHES "^pouchdb-[0-9]+\\.[0-9]+\\.[0-9]+")
        problem("${name}.peers key '${peer}' is not pouchdb-<version>")
        continue()
      endif()
      check_positive("${name}.peers.${peer}" results ${i} peers "${peer}")
      check_positive("${name}.charta_advantage.${peer}" results ${i} charta_advantage "${peer}")
    endif()
  endforeach()
endif()
foreach(name IN LISTS required)
  if(NOT name IN_LIST seen)
    problem("result ${name} is missing")
  endif()
endforeach()

if(with_peer)
  foreach(figure cold_ms cold_requests cold_bytes incremental_median_ms incremental_requests incremental_bytes docs)
    check_positive("peer.${figure}" peer ${figure})
  endforeach()
endif()

# Goals: reported with their target, measured value and verdict (not asserted).
set(min_goals 5)
if(with_peer)
  set(min_goals 7)
endif()
string(JSON ngoals ERROR_VARIABLE err LENGTH "${report}" goals)
if(err OR ngoals LESS min_goals)
  problem("goals is missing or holds fewer than the ${min_goals} goals")
else()
  math(EXPR last "${ngoals} - 1")
  foreach(i RANGE ${last})
    string(JSON met ERROR_VARIABLE err TYPE "${report}" goals ${i} met)
    if(err OR NOT met STREQUAL "BOOLEAN")
      problem("goal ${i} has no met true/false")
    endif()
    check_positive("goals[${i}].target" goals ${i} target)
    string(JSON type ERROR_VARIABLE err TYPE "${report}" goals ${i} actual)
    if(err OR NOT type STREQUAL "NUMBER")
      problem("goals[${i}].actual is missing or not a number")
    endif()
  endforeach()
endif()

# Every correctness check must be true.
charta_bench_finish()
