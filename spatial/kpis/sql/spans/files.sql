-- Building, enterprise and house-unit files (one building / one enterprise, one file): every version of a
-- building counts in its own grid while it was valid; enterprises (not deregistered) and house units count in
-- their building's grid. Person files are the actual population (figure `population`): one file per resident.
SELECT grid_code, 'building' AS key, valid_from AS starts, NULL::timestamptz AS ends, 1.0::float8 AS weight
FROM onemap.building WHERE grid_code = ANY(%(span_grids)s::text[])
UNION ALL
SELECT grid_code, 'building', valid_from, valid_to, 1.0
FROM onemap.building_history WHERE grid_code = ANY(%(span_grids)s::text[])
UNION ALL
SELECT b.grid_code, 'enterprise', e.valid_from, e.valid_to, 1.0
FROM onemap.building AS b
CROSS JOIN LATERAL (
    SELECT valid_from, NULL::timestamptz AS valid_to FROM onemap.enterprise
    WHERE building_id = b.id AND status <> 'deregistered'
    UNION ALL
    SELECT valid_from, valid_to FROM onemap.enterprise_history
    WHERE building_id = b.id AND status <> 'deregistered'
) AS e
WHERE b.grid_code = ANY(%(span_grids)s::text[])
UNION ALL
SELECT b.grid_code, 'house_unit', u.valid_from, NULL, 1.0
FROM onemap.building AS b JOIN onemap.house_unit AS u ON u.building_id = b.id
WHERE b.grid_code = ANY(%(span_grids)s::text[])
