-- Cases still open (not closed) at each instant in each area, and of those the overdue ones (past their limit,
-- or flagged by the overdue job at the district). A case's state at an instant is its version valid then. A
-- series' last instant is the end of today: a limit not yet passed now is not overdue there.
-- %(department)s narrows to one department's cases (a department editor's own), NULL counts every case.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, k.key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT grid_code, state, department, due_at, overdue FROM onemap.service_case
    WHERE valid_from <= t.at AND state <> 'closed'
    UNION ALL
    SELECT grid_code, state, department, due_at, overdue FROM onemap.service_case_history
    WHERE valid_from <= t.at AND valid_to > t.at AND state <> 'closed'
) AS c
JOIN scope AS s ON s.grid_code = c.grid_code
CROSS JOIN LATERAL (
    SELECT 'open' AS key
    UNION ALL
    SELECT 'overdue' WHERE c.overdue OR c.due_at < least(t.at, now())
) AS k
WHERE %(department)s::text IS NULL OR c.department = %(department)s::text
GROUP BY 1, 2, 3
