-- Cases closed in the bucket before each instant ((since, at]) in each area, and how many of them were closed
-- within their limits: no step of the case was late (every transition with a limit met it) and none went
-- overdue. The case's area and department are the version current at its closing.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT * FROM unnest(%(instants)s::timestamptz[], %(since)s::timestamptz[]) AS t(at, since)
), closed AS (
    SELECT t.at, x.case_id, x.department,
           NOT EXISTS (SELECT 1 FROM onemap.case_transition AS l
                       WHERE l.case_id = x.case_id AND l.at <= x.at AND l.on_time IS FALSE) AS on_time
    FROM t
    JOIN onemap.case_transition AS x ON x.action = 'close' AND x.at > t.since AND x.at <= t.at
)
SELECT d.at, s.area_code, k.key, count(*)::float8 AS value
FROM closed AS d
JOIN onemap.service_case AS c ON c.id = d.case_id
JOIN scope AS s ON s.grid_code = c.grid_code
CROSS JOIN LATERAL (SELECT 'closed' AS key UNION ALL SELECT 'on_time' WHERE d.on_time) AS k
WHERE %(department)s::text IS NULL OR c.department = %(department)s::text
GROUP BY 1, 2, 3
