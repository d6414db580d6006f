-- Overdue cases at each instant in each area: open (not closed) and past their limit, or flagged by the overdue
-- job. A case's state at an instant is its version valid then. Counted live beside the open cases' aggregate
-- because it moves with the clock: a series' last instant is the end of today, and a limit not yet passed now
-- is not overdue there. Each branch is read by its own index (migration 0013), not every open case.
-- %(department)s narrows to one department's cases (a department editor's own), NULL counts every case.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT at, least(at, now()) AS limit_at FROM unnest(%(instants)s::timestamptz[]) AS t(at)
)
SELECT t.at, s.area_code, 'overdue' AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT grid_code, department FROM onemap.service_case
    WHERE state <> 'closed' AND due_at < t.limit_at AND valid_from <= t.at
    UNION ALL
    SELECT grid_code, department FROM onemap.service_case
    WHERE state <> 'closed' AND overdue AND (due_at IS NULL OR due_at >= t.limit_at) AND valid_from <= t.at
    UNION ALL
    SELECT grid_code, department FROM onemap.service_case_history
    WHERE state <> 'closed' AND valid_to > t.at AND valid_from <= t.at AND (overdue OR due_at < t.limit_at)
) AS c
JOIN scope AS s ON s.grid_code = c.grid_code
WHERE %(department)s::text IS NULL OR c.department = %(department)s::text
GROUP BY 1, 2
