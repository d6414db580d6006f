-- Grid events (incidents and warnings alike) that occurred in the bucket before each instant ((since, at]), per kind.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT * FROM unnest(%(instants)s::timestamptz[], %(since)s::timestamptz[]) AS t(at, since)
)
SELECT t.at, s.area_code, e.kind AS key, count(*)::float8 AS value
FROM t
JOIN onemap.event AS e ON e.occurred_at > t.since AND e.occurred_at <= t.at
JOIN scope AS s ON s.grid_code = e.grid_code
GROUP BY 1, 2, 3
