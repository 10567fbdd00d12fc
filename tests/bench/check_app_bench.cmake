# Runs `charta-bench app --json` and checks its report (the app_bench test).
#
#   cmake -DBENCH=<charta-bench> -DOUT=<report.json> [-DARGS="--probe-bin ... [--patients N] [--runs R]"]
#         -P check_app_bench.cmake
#
# Fails when the bench exits non-zero, the report is not one well-formed JSON
# object of suite "app", the workload lacks its patients or ops, a run is
# missing or failed, a run's list did not show every patient of the workload
# or its chart did not load, a figure (median, min, max) is missing, zero,
# negative or not a number, a goal lacks its fields, or any check in "checks"
# is false. Speed and memory goals are not asserted: the machines that run
# this are shared and noisy.
cmake_minimum_required(VERSION 3.25)
set(SUITE app)
include(${CMAKE_CURRENT_LIST_DIR}/bench_report_common.cmake)

foreach(figure patients years runs seed_ms total_ops ops_per_patient chart_patient_ops)
  check_positive("workload.${figure}" workload ${figure})
endforeach()
string(JSON patients ERROR_VARIABLE err GET "${report}" workload patients)
string(JSON want_runs ERROR_VARIABLE err2 GET "${report}" workload runs)
if(err OR err2)
  set(patients -1)
  set(want_runs 1)
endif()

# Every run: succeeded, listed every patient (model and view), loaded the chart.
string(JSON nruns ERROR_VARIABLE err LENGTH "${report}" runs)
if(err OR NOT nruns EQUAL want_runs)
  problem("runs holds ${nruns} runs, not ${want_runs}")
elseif(nruns GREATER 0)
  math(EXPR last "${nruns} - 1")
  foreach(i RANGE ${last})
    string(JSON ok ERROR_VARIABLE err GET "${report}" runs ${i} ok)
    if(err OR NOT ok)
      string(JSON why ERROR_VARIABLE err GET "${report}" runs ${i} error)
      problem("run ${i} failed: ${why}")
      continue()
    endif()
    foreach(count patients_listed list_view_count)
      string(JSON n ERROR_VARIABLE err GET "${report}" runs ${i} ${count})
      if(err OR NOT n EQUAL patients)
        problem("run ${i}: ${count} is '${n}', not the ${patients} patients of the workload")
      endif()
    endforeach()
    string(JSON loaded ERROR_VARIABLE err GET "${report}" runs ${i} chart_loaded)
    if(err OR NOT loaded)
      problem("run ${i}: the chart did not load")
    endif()
    foreach(figure spawn_to_main_ms lock_screen_ms unlock_ms unlock_to_list_ms cold_start_to_list_ms chart_open_ms
                   peak_rss_mib)
      check_positive("runs[${i}].${figure}" runs ${i} ${figure})
    endforeach()
  endforeach()
endif()

# Results: every figure, with its median, minimum and maximum.
set(required spawn_to_main lock_screen unlock unlock_to_list cold_start_to_list chart_open show_screen_call peak_rss
             rss_at_list rss_at_chart)
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
    foreach(stat median min max)
      check_positive("${name}.${stat}" results ${i} ${stat})
    endforeach()
  endforeach()
endif()
foreach(name IN LISTS required)
  if(NOT name IN_LIST seen)
    problem("result ${name} is missing")
  endif()
endforeach()

foreach(figure open_and_unlock_ms read_all_summaries_ms)
  check_positive("in_process.${figure}[0]" in_process ${figure} 0)
endforeach()

# Goals: reported with their target, measured value and verdict (not asserted).
string(JSON ngoals ERROR_VARIABLE err LENGTH "${report}" goals)
if(err OR ngoals LESS 3)
  problem("goals is missing or holds fewer than the 3 goals")
else()
  math(EXPR last "${ngoals} - 1")
  foreach(i RANGE ${last})
    string(JSON met ERROR_VARIABLE err TYPE "${report}" goals ${i} met)
    if(err OR NOT met STREQUAL "BOOLEAN")
      problem("goal ${i} has no met true/false")
    endif()
    check_positive("goals[${i}].target" goals ${i} target)
    check_positive("goals[${i}].actual" goals ${i} actual)
  endforeach()
endif()

# Every correctness check must be true.
charta_bench_finish()
