-- Recount the population pre-aggregate for the days %(first)s .. %(last)s in one pass over the residences:
-- a residence counts from max(valid_from, first) and stops counting at valid_to, so each grid's count on a day
-- is the running sum of starts minus ends up to that day.
WITH grids AS (
    SELECT code AS grid_code FROM onemap.admin_area WHERE level = 'grid'
), days AS (
    SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
), spans AS (
    SELECT b.grid_code, greatest(r.valid_from, %(first)s::date) AS starts, r.valid_to AS ends,
           (p.household_type = 'local')::int AS local
    FROM onemap.residence AS r
    JOIN onemap.building AS b ON b.id = r.building_id
    JOIN onemap.person AS p ON p.id = r.person_id
    WHERE r.valid_from <= %(last)s::date AND (r.valid_to IS NULL OR r.valid_to > %(first)s::date)
), deltas AS (
    SELECT grid_code, day, sum(d_actual) AS d_actual, sum(d_local) AS d_local
    FROM (SELECT grid_code, starts AS day, 1 AS d_actual, local AS d_local FROM spans
          UNION ALL
          SELECT grid_code, ends, -1, -local FROM spans WHERE ends <= %(last)s::date) AS changes
    GROUP BY 1, 2
)
INSERT INTO onemap.kpi_population_daily (day, grid_code, registered, actual)
SELECT d.day, g.grid_code,
       sum(coalesce(x.d_local, 0)) OVER w AS registered,
       sum(coalesce(x.d_actual, 0)) OVER w AS actual
FROM grids AS g
CROSS JOIN days AS d
LEFT JOIN deltas AS x ON x.grid_code = g.grid_code AND x.day = d.day
WINDOW w AS (PARTITION BY g.grid_code ORDER BY d.day)
