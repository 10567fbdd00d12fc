# Runs `charta-bench console --json` and checks its report (the console_bench test).
#
#   cmake -DBENCH=<charta-bench> -DOUT=<report.json> -DARGS="--server-bin ... --node-dir ..."
#         -P check_console_bench.cmake
#
# Fails when the bench exits non-zero, the report is not one well-formed JSON
# object of suite "console", a timed API call or page lacks a positive median,
# p95 or size, fewer than the four pages were loaded, the goal lacks its
# fields, or any check in "checks" is false (every conflict open, every call
# answered, the inbox's first page full and led by clinically significant
# conflicts, every page filled, no console error). The 300 ms goal is
# reported, not asserted: the machines that run this are shared and noisy.
cmake_minimum_required(VERSION 3.25)
set(SUITE console)
include(${CMAKE_CURRENT_LIST_DIR}/bench_report_common.cmake)

check_positive("conflicts" conflicts)
check_positive("setup_ms" setup_ms)
string(JSON ncalls ERROR_VARIABLE err LENGTH "${report}" api)
if(err OR ncalls LESS 9)
  problem("api holds fewer than the 9 timed calls")
else()
  math(EXPR last "${ncalls} - 1")
  foreach(i RANGE ${last})
    foreach(figure median_ms p95_ms max_ms bytes)
      check_positive("api[${i}].${figure}" api ${i} ${figure})
    endforeach()
  endforeach()
endif()
string(JSON npages ERROR_VARIABLE err LENGTH "${report}" pages)
if(err OR NOT npages EQUAL 4)
  problem("pages does not hold the four pages")
else()
  foreach(i RANGE 3)
    foreach(figure median_ms p95_ms max_ms switch_median_ms switch_p95_ms runs)
      check_positive("pages[${i}].${figure}" pages ${i} ${figure})
    endforeach()
  endforeach()
endif()
check_positive("goal.page_ms" goal page_ms)
check_positive("goal.slowest_page_median_ms" goal slowest_page_median_ms)
string(JSON met ERROR_VARIABLE err TYPE "${report}" goal met)
if(err OR NOT met STREQUAL "BOOLEAN")
  problem("goal.met is missing")
endif()
charta_bench_finish()
