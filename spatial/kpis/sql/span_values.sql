-- A pre-aggregated figure's values per area at each instant: from the daily aggregate for the (instant, day)
-- pairs %(stored_at)s / %(stored_day)s, except for the grids a change has made stale (%(skip_at)s /
-- %(skip_grid)s), and counted live from the figure's spans for the (instant, grid) pairs %(live_at)s /
-- %(live_grid)s. The spans CTE is the figure's spans file: (grid_code, key, starts, ends, weight) of the grids
-- %(span_grids)s; a span adds its weight at every instant from starts (inclusive) to ends (exclusive).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), stored_t AS (
    SELECT * FROM unnest(%(stored_at)s::timestamptz[], %(stored_day)s::date[]) AS t(at, day)
), skip AS (
    SELECT * FROM unnest(%(skip_at)s::timestamptz[], %(skip_grid)s::text[]) AS k(at, grid_code)
), live AS (
    SELECT * FROM unnest(%(live_at)s::timestamptz[], %(live_grid)s::text[]) AS l(at, grid_code)
), spans AS (
    {spans}
)
SELECT t.at, s.area_code, d.key, sum(d.value)::float8 AS value
FROM stored_t AS t
JOIN onemap.kpi_daily AS d ON d.figure = %(figure)s AND d.day = t.day
JOIN scope AS s ON s.grid_code = d.grid_code
WHERE NOT EXISTS (SELECT 1 FROM skip AS k WHERE k.at = t.at AND k.grid_code = d.grid_code)
GROUP BY 1, 2, 3
UNION ALL
SELECT l.at, s.area_code, sp.key, sum(sp.weight)::float8
FROM spans AS sp
JOIN live AS l ON l.grid_code = sp.grid_code AND sp.starts <= l.at AND (sp.ends IS NULL OR sp.ends > l.at)
JOIN scope AS s ON s.grid_code = sp.grid_code
GROUP BY 1, 2, 3
