-- Enterprises and individual businesses per status (active, suspended, deregistered) in each area, as of each
-- instant.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, e.status AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT building_id, status FROM onemap.enterprise WHERE valid_from <= t.at
    UNION ALL
    SELECT building_id, status FROM onemap.enterprise_history WHERE valid_from <= t.at AND valid_to > t.at
) AS e
JOIN onemap.building AS b ON b.id = e.building_id
JOIN scope AS s ON s.grid_code = b.grid_code
GROUP BY 1, 2, 3
