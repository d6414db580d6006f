-- Registered (户籍, local household) and actual (实有, everyone living there) population per area at each
-- instant: from the daily pre-aggregate for the days it holds exactly (before its dirty_since), counted live
-- for the others. Every figure file takes %(grids)s / %(areas)s (each grid of the scope and the area it rolls up
-- to), %(instants)s and %(since)s (each instant's bucket start, for flow figures), and returns (at, area_code, key, value).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), days AS (
    SELECT t.at, (t.at AT TIME ZONE 'Asia/Shanghai')::date AS day
    FROM unnest(%(instants)s::timestamptz[]) AS t(at)
), clean AS (
    SELECT d.at, d.day FROM days AS d
    JOIN onemap.kpi_aggregate AS k ON k.name = 'population'
    WHERE d.day BETWEEN k.first_day AND k.last_day AND d.day < coalesce(k.dirty_since, 'infinity'::date)
), stored AS (
    SELECT c.at, s.area_code, sum(a.registered) AS registered, sum(a.actual) AS actual
    FROM clean AS c
    JOIN onemap.kpi_population_daily AS a ON a.day = c.day
    JOIN scope AS s ON s.grid_code = a.grid_code
    GROUP BY 1, 2
), live AS (
    SELECT d.at, s.area_code,
           count(*) FILTER (WHERE p.household_type = 'local') AS registered, count(*) AS actual
    FROM days AS d
    JOIN onemap.residence AS r ON r.valid_from <= d.day AND (r.valid_to IS NULL OR r.valid_to > d.day)
    JOIN onemap.building AS b ON b.id = r.building_id
    JOIN scope AS s ON s.grid_code = b.grid_code
    JOIN onemap.person AS p ON p.id = r.person_id
    WHERE d.at NOT IN (SELECT at FROM clean)
    GROUP BY 1, 2
), counted AS (
    SELECT * FROM stored UNION ALL SELECT * FROM live
)
SELECT at, area_code, 'registered' AS key, registered::float8 AS value FROM counted
UNION ALL
SELECT at, area_code, 'actual', actual::float8 FROM counted
