-- Cases still open at each instant, per responsible department, in each area (see cases.sql for the versions).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, c.department AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT grid_code, department FROM onemap.service_case WHERE valid_from <= t.at AND state <> 'closed'
    UNION ALL
    SELECT grid_code, department FROM onemap.service_case_history
    WHERE valid_from <= t.at AND valid_to > t.at AND state <> 'closed'
) AS c
JOIN scope AS s ON s.grid_code = c.grid_code
WHERE %(department)s::text IS NULL OR c.department = %(department)s::text
GROUP BY 1, 2, 3
