-- Open grid events and monitoring warnings of a workspace's grids, most severe and newest first.
SELECT e.id, e.kind, w.rule, e.severity, e.status, e.occurred_at, e.description, e.grid_code,
       b.code AS building_code, b.address, count(*) OVER () AS matched
FROM onemap.event AS e
LEFT JOIN onemap.warning AS w ON w.event_id = e.id
LEFT JOIN onemap.building AS b ON b.id = e.building_id
WHERE e.grid_code = ANY(%(grids)s::text[]) AND e.status <> 'closed'
ORDER BY e.severity DESC, e.occurred_at DESC, e.id
LIMIT %(limit)s
