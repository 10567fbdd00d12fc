# Shared by the benchmark report checks (check_bench.cmake,
# check_server_bench.cmake): runs `charta-bench <SUITE> --json ${ARGS}`, keeps
# the report in ${OUT}, fails at once when the bench fails or prints more than
# the one-line JSON report, and sets up:
#   report             the report text
#   problems           a list the check appends to (problem(text))
#   check_positive(label path...)  a number > 0 at that JSON path
#   charta_bench_finish()          every "checks" entry true, then fail or pass
# REQUIRES: BENCH, OUT and SUITE set.
if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DBENCH=<charta-bench> -DOUT=<report.json> [-DARGS=...] -P <check>.cmake")
endif()
separate_arguments(extra UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${BENCH}" ${SUITE} --json ${extra}
                OUTPUT_VARIABLE report
                RESULT_VARIABLE rc)
file(WRITE "${OUT}" "${report}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "charta-bench ${SUITE} exited with ${rc}; report (if any) in ${OUT}")
endif()

set(problems "")
macro(problem text)
  list(APPEND problems "${text}")
endmacro()

# charta-bench prints its report as one line: anything more on stdout is an error.
string(STRIP "${report}" stripped)
if(stripped MATCHES "\n")
  message(FATAL_ERROR "stdout holds more than the one-line JSON report (see ${OUT})")
endif()
string(JSON suite ERROR_VARIABLE err GET "${report}" suite)
if(err)
  message(FATAL_ERROR "the report is not a JSON object with a suite: ${err}\n${report}")
endif()
if(NOT suite STREQUAL "${SUITE}")
  problem("suite is '${suite}', not '${SUITE}'")
endif()

function(check_positive label)
  string(JSON type ERROR_VARIABLE err TYPE "${report}" ${ARGN})
  if(err OR NOT type STREQUAL "NUMBER")
    set(problems "${problems};${label} is missing or not a number" PARENT_SCOPE)
    return()
  endif()
  string(JSON value GET "${report}" ${ARGN})
  if(NOT value GREATER 0)
    set(problems "${problems};${label} is ${value}, not a positive number" PARENT_SCOPE)
  endif()
endfunction()

# Appends a problem for every entry of the report's "checks" that is not true,
# then fails with every problem found, or reports the report as ok.
macro(charta_bench_finish)
  string(JSON nchecks ERROR_VARIABLE err LENGTH "${report}" checks)
  if(err OR nchecks EQUAL 0)
    problem("checks is missing or empty")
  else()
    math(EXPR last "${nchecks} - 1")
    foreach(i RANGE ${last})
      string(JSON check MEMBER "${report}" checks ${i})
      string(JSON ok GET "${report}" checks "${check}")
      if(NOT ok)
        problem("check ${check} failed")
      endif()
    endforeach()
  endif()
  list(FILTER problems EXCLUDE REGEX "^$")
  if(problems)
    list(JOIN problems "\n  " text)
    message(FATAL_ERROR "the charta-bench ${SUITE} report (${OUT}) is not right:\n  ${text}")
  endif()
  message(STATUS "charta-bench ${SUITE} report ok: ${OUT}")
endmacro()
