# The clinical rules of the tablet app (plain C++, no GUI): ages, vital-sign
# plausibility, laboratory flags, allergy alerts, duplicates and the schedule.
charta_add_test(NAME charta_app_rules_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/rules/clinical_rules_test.cpp
                LABELS app LIBS charta_clinical_rules)
