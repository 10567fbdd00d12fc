# The server's libraries that depend on nothing but the CRDT core, so that
# builds without the server's third-party libraries (the fuzz build:
# CHARTA_CORE_ONLY with CHARTA_FUZZ) can have them too. Included by
# server/CMakeLists.txt and by the top-level CMakeLists.txt for that build.
#   charta_server_util    JSON, the key = value config file, JSON-lines logs
#   charta_server_schema  JSON Schema validation, with HL7's FHIR R4 schema built
#                         into fhir_schema.cc (.incbin of fhir/fhir.schema.json;
#                         editing it rebuilds)
include_guard(GLOBAL)
find_package(Threads REQUIRED)
set(charta_server_src ${CMAKE_CURRENT_LIST_DIR}/src)

add_library(charta_server_util ${charta_server_src}/json.cc ${charta_server_src}/kv_file.cc
                               ${charta_server_src}/log.cc)
target_include_directories(charta_server_util PUBLIC ${charta_server_src})
target_link_libraries(charta_server_util PUBLIC charta_crdt PRIVATE Threads::Threads)

add_library(charta_server_schema ${charta_server_src}/json_schema.cc ${charta_server_src}/fhir_schema.cc)
target_include_directories(charta_server_schema PUBLIC ${charta_server_src})
target_link_libraries(charta_server_schema PUBLIC charta_server_util)
set(charta_fhir_schema_file ${CMAKE_CURRENT_LIST_DIR}/fhir/fhir.schema.json)
set_source_files_properties(${charta_server_src}/fhir_schema.cc PROPERTIES
  COMPILE_DEFINITIONS "CHARTA_FHIR_SCHEMA_FILE=\"${charta_fhir_schema_file}\""
  OBJECT_DEPENDS ${charta_fhir_schema_file})
