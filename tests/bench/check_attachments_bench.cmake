# Runs `charta-bench attachments --json` and checks its report (the
# attachments_bench test).
#
#   cmake -DBENCH=<charta-bench> -DOUT=<report.json> -DARGS="--server-bin ..." -P check_attachments_bench.cmake
#
# Fails when the bench exits non-zero, the report is not one well-formed JSON
# object of suite "attachments", a rate or time is missing or not positive,
# a transfer run is missing, the goal lacks its fields, or any check in
# "checks" is false (secretstream round trip, every upload complete on the
# server, every download read back identical). The 50 % goal is reported, not
# asserted: the machines that run this are shared and noisy.
cmake_minimum_required(VERSION 3.25)
set(SUITE attachments)
include(${CMAKE_CURRENT_LIST_DIR}/bench_report_common.cmake)

check_positive("attachment_bytes" attachment_bytes)
check_positive("runs" runs)
foreach(figure loopback_mib_s secretstream_push_mib_s secretstream_pull_mib_s)
  check_positive("raw.${figure}" raw ${figure})
endforeach()
foreach(section store upload download read)
  foreach(figure median_ms mib_s share_of_loopback share_of_secretstream)
    check_positive("${section}.${figure}" ${section} ${figure})
  endforeach()
endforeach()
foreach(figure share reference_mib_s upload_share download_share)
  check_positive("goal.${figure}" goal ${figure})
endforeach()
string(JSON met ERROR_VARIABLE err TYPE "${report}" goal met)
if(err OR NOT met STREQUAL "BOOLEAN")
  problem("goal.met is missing")
endif()
charta_bench_finish()
