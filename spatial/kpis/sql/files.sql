-- Building and enterprise files (one building / one enterprise, one file) and house units in each area, as of
-- each instant (current rows that had started, plus history rows valid then). Person files are the actual
-- population (figure `population`): one file per resident.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
), buildings AS (
    SELECT t.at, b.id, b.grid_code FROM t
    CROSS JOIN LATERAL (
        SELECT id, grid_code FROM onemap.building WHERE valid_from <= t.at
        UNION ALL
        SELECT id, grid_code FROM onemap.building_history WHERE valid_from <= t.at AND valid_to > t.at
    ) AS b
), enterprises AS (
    SELECT t.at, e.building_id FROM t
    CROSS JOIN LATERAL (
        SELECT building_id FROM onemap.enterprise WHERE valid_from <= t.at AND status <> 'deregistered'
        UNION ALL
        SELECT building_id FROM onemap.enterprise_history
        WHERE valid_from <= t.at AND valid_to > t.at AND status <> 'deregistered'
    ) AS e
)
SELECT b.at, s.area_code, 'building' AS key, count(*)::float8 AS value
FROM buildings AS b JOIN scope AS s ON s.grid_code = b.grid_code GROUP BY 1, 2
UNION ALL
SELECT e.at, s.area_code, 'enterprise', count(*)::float8
FROM enterprises AS e JOIN onemap.building AS b ON b.id = e.building_id
JOIN scope AS s ON s.grid_code = b.grid_code GROUP BY 1, 2
UNION ALL
SELECT b.at, s.area_code, 'house_unit', count(u.id)::float8
FROM buildings AS b JOIN scope AS s ON s.grid_code = b.grid_code
JOIN onemap.house_unit AS u ON u.building_id = b.id AND u.valid_from <= b.at GROUP BY 1, 2
