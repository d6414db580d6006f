-- The case versions valid at %(as_of)s: current rows that had begun by then, and history rows valid then.
SELECT id, category, state, source_kind, source_ref, description, address, building_id, grid_code, street_code,
       department, reporter, contact, escalation_level, due_at, overdue, returned_count, reopened_count,
       created_at, valid_from, geom
FROM onemap.service_case
WHERE valid_from <= %(as_of)s::timestamptz
UNION ALL
SELECT id, category, state, source_kind, source_ref, description, address, building_id, grid_code, street_code,
       department, reporter, contact, escalation_level, due_at, overdue, returned_count, reopened_count,
       created_at, valid_from, geom
FROM onemap.service_case_history
WHERE valid_from <= %(as_of)s::timestamptz AND valid_to > %(as_of)s::timestamptz
