-- Count a pre-aggregated figure (%(figure)s) per grid and Beijing day, %(first)s .. %(last)s, for the grids
-- %(span_grids)s, writing the days from %(emit_from)s on. A span counts on day D when it runs at D's last
-- instant: it adds its weight from the Beijing day of starts and takes it back from the day of ends, so each
-- day's value is the running sum of those changes (the ones before %(first)s fold into its first day).
WITH spans AS (
    {spans}
), changes AS (
    SELECT grid_code, key, (starts AT TIME ZONE 'Asia/Shanghai')::date AS day, weight AS delta FROM spans
    UNION ALL
    SELECT grid_code, key, (ends AT TIME ZONE 'Asia/Shanghai')::date, -weight FROM spans WHERE ends IS NOT NULL
), deltas AS (
    SELECT grid_code, key, greatest(day, %(first)s::date) AS day, sum(delta) AS delta
    FROM changes WHERE day <= %(last)s::date
    GROUP BY 1, 2, 3
), pairs AS (
    SELECT DISTINCT grid_code, key FROM deltas
), counted AS (
    SELECT p.grid_code, p.key, d.day::date AS day,
           sum(coalesce(x.delta, 0)) OVER (PARTITION BY p.grid_code, p.key ORDER BY d.day) AS value
    FROM pairs AS p
    CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d(day)
    LEFT JOIN deltas AS x ON x.grid_code = p.grid_code AND x.key = p.key AND x.day = d.day::date
)
INSERT INTO onemap.kpi_daily (figure, day, grid_code, key, value)
SELECT %(figure)s, day, grid_code, key, value FROM counted
WHERE day >= %(emit_from)s::date AND value <> 0
ORDER BY day, grid_code, key  -- a day's rows together on disk: a figure's day is read in one go
