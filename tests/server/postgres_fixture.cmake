# The throwaway PostgreSQL cluster (scripts/pg-cluster) as the CTest fixture
# "postgres", and what a suite needs to use it.
#
#   charta_requires_postgres(<test>)
#
# makes <test> (added with charta_add_test) start after postgres_cluster_start
# and before postgres_cluster_stop, labels it postgres, sets
# CHARTA_TEST_PG_STATE for it and links charta_test_postgres, whose
# charta::test::newPostgresDatabase() (tests/support/postgres.h) hands each
# caller a fresh database.
include_guard(GLOBAL)

# Cached so that suites in other folders see it after the include guard.
set(CHARTA_PG_STATE_DIR ${CMAKE_BINARY_DIR}/postgres-cluster CACHE INTERNAL "the PostgreSQL test cluster state")

add_test(NAME postgres_cluster_start
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/pg-cluster start ${CHARTA_PG_STATE_DIR})
set_tests_properties(postgres_cluster_start PROPERTIES FIXTURES_SETUP postgres LABELS postgres
                     TIMEOUT 180)
add_test(NAME postgres_cluster_stop
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/pg-cluster stop ${CHARTA_PG_STATE_DIR})
set_tests_properties(postgres_cluster_stop PROPERTIES FIXTURES_CLEANUP postgres LABELS postgres
                     TIMEOUT 120)

# libpq's imported target is created in server/, which this folder cannot see.
if(NOT TARGET PkgConfig::LIBPQ)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
endif()

add_library(charta_test_postgres STATIC ${PROJECT_SOURCE_DIR}/tests/support/postgres.cc
                                        ${PROJECT_SOURCE_DIR}/tests/support/small_filesystem.cc)
target_include_directories(charta_test_postgres PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(charta_test_postgres PRIVATE PkgConfig::LIBPQ)

function(charta_requires_postgres test)
  set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED postgres)
  get_test_property(${test} LABELS labels)
  if(NOT "postgres" IN_LIST labels)
    set_property(TEST ${test} APPEND PROPERTY LABELS postgres)
  endif()
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "CHARTA_TEST_PG_STATE=${CHARTA_PG_STATE_DIR}")
  if(TARGET ${test})
    target_link_libraries(${test} PRIVATE charta_test_postgres)
  endif()
endfunction()
