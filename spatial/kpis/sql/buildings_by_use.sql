-- Buildings per use (residential, urban village, commercial, ...) in each area, as of each instant.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, b.use AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT grid_code, use FROM onemap.building WHERE valid_from <= t.at
    UNION ALL
    SELECT grid_code, use FROM onemap.building_history WHERE valid_from <= t.at AND valid_to > t.at
) AS b
JOIN scope AS s ON s.grid_code = b.grid_code
GROUP BY 1, 2, 3
