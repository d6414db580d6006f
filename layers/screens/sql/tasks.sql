-- Tasks given to the grid workers of a workspace's grids, open ones first.
SELECT k.id, k.grid_code, g.name AS grid_name, k.kind, k.subject, k.note, k.status, k.assigned_by, k.assigned_at,
       k.done_by, k.done_at, k.done_note, count(*) OVER () AS matched
FROM onemap.grid_task AS k
JOIN onemap.admin_area AS g ON g.code = k.grid_code
WHERE k.grid_code = ANY(%(grids)s::text[])
ORDER BY k.status, k.assigned_at DESC, k.id DESC
LIMIT %(limit)s
