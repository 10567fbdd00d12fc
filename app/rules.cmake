# charta_app_rules: the clinical rules of the tablet app, plain C++ (no Qt),
# so they are tested on their own and every decision lives in one place.
add_library(charta_app_rules ${CMAKE_CURRENT_LIST_DIR}/src/clinical_rules.cc)
target_include_directories(charta_app_rules PUBLIC ${CMAKE_CURRENT_LIST_DIR}/src)
target_link_libraries(charta_app_rules PUBLIC charta_crdt)
