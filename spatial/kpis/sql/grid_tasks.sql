-- Tasks given to grid workers in each area: still assigned at each instant, and done in the bucket before it ((since, at]).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT * FROM unnest(%(instants)s::timestamptz[], %(since)s::timestamptz[]) AS t(at, since)
)
SELECT t.at, s.area_code, 'assigned' AS key,
       count(*) FILTER (WHERE k.assigned_at <= t.at AND (k.done_at IS NULL OR k.done_at > t.at))::float8 AS value
FROM t CROSS JOIN onemap.grid_task AS k JOIN scope AS s ON s.grid_code = k.grid_code
GROUP BY 1, 2
UNION ALL
SELECT t.at, s.area_code, 'done',
       count(*) FILTER (WHERE k.done_at > t.since AND k.done_at <= t.at)::float8
FROM t CROSS JOIN onemap.grid_task AS k JOIN scope AS s ON s.grid_code = k.grid_code
GROUP BY 1, 2
