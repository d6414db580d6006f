-- Open cases (not closed) per responsible department: every version of a case counts in its grid while it was
-- valid and open.
SELECT grid_code, department AS key, valid_from AS starts, NULL::timestamptz AS ends, 1.0::float8 AS weight
FROM onemap.service_case WHERE state <> 'closed' AND grid_code = ANY(%(span_grids)s::text[])
UNION ALL
SELECT grid_code, department, valid_from, valid_to, 1.0
FROM onemap.service_case_history WHERE state <> 'closed' AND grid_code = ANY(%(span_grids)s::text[])
