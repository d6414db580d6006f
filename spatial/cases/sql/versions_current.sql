-- The cases as they are now (the "versions" of cases_page.sql and cases_count.sql without an instant).
SELECT id, category, state, source_kind, source_ref, description, address, building_id, grid_code, street_code,
       department, reporter, contact, escalation_level, due_at, overdue, returned_count, reopened_count,
       created_at, valid_from, geom
FROM onemap.service_case
