-- Warnings first raised in the bucket before each instant ((since, at]), per rule, in each area.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT * FROM unnest(%(instants)s::timestamptz[], %(since)s::timestamptz[]) AS t(at, since)
)
SELECT t.at, s.area_code, w.rule AS key, count(*)::float8 AS value
FROM t
JOIN onemap.warning AS w ON w.first_seen > t.since AND w.first_seen <= t.at
JOIN onemap.event AS e ON e.id = w.event_id
JOIN scope AS s ON s.grid_code = e.grid_code
GROUP BY 1, 2, 3
