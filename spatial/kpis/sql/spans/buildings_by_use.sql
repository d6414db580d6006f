-- Buildings per use (residential, urban village, commercial, ...): every version of a building counts in its own
-- grid, under its use, while it was valid.
SELECT grid_code, use AS key, valid_from AS starts, NULL::timestamptz AS ends, 1.0::float8 AS weight
FROM onemap.building WHERE grid_code = ANY(%(span_grids)s::text[])
UNION ALL
SELECT grid_code, use, valid_from, valid_to, 1.0
FROM onemap.building_history WHERE grid_code = ANY(%(span_grids)s::text[])
