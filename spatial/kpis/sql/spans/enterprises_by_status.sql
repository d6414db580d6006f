-- Enterprises and individual businesses per status (active, suspended, deregistered): every version counts in
-- its building's grid while it was valid.
SELECT b.grid_code, e.status AS key, e.valid_from AS starts, e.valid_to AS ends, 1.0::float8 AS weight
FROM onemap.building AS b
CROSS JOIN LATERAL (
    SELECT status, valid_from, NULL::timestamptz AS valid_to FROM onemap.enterprise WHERE building_id = b.id
    UNION ALL
    SELECT status, valid_from, valid_to FROM onemap.enterprise_history WHERE building_id = b.id
) AS e
WHERE b.grid_code = ANY(%(span_grids)s::text[])
