-- Open cases of a workspace's grids, overdue and nearest limit first (citizens' contacts are not shown here:
-- the case page shows them to whoever may see them).
SELECT c.id, c.category, c.state, c.department, c.due_at, (c.overdue OR c.due_at < now()) AS overdue,
       c.description, c.address, c.grid_code, g.name AS grid_name,
       (SELECT string_agg(k.id || ':' || k.status, ' ' ORDER BY k.id) FROM onemap.grid_task AS k
        WHERE k.kind = 'case' AND k.subject = c.id::text) AS tasks,
       count(*) OVER () AS matched
FROM onemap.service_case AS c
JOIN onemap.admin_area AS g ON g.code = c.grid_code
WHERE c.grid_code = ANY(%(grids)s::text[]) AND c.state <> 'closed'
ORDER BY (c.overdue OR c.due_at < now()) DESC, c.due_at NULLS LAST, c.id
LIMIT %(limit)s
