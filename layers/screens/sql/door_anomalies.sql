-- Open door-access anomalies of a workspace's grids: the warnings the door-access rules (%(door_rules)s) raised,
-- de-identified (the card or ID behind a warning is not shown), newest first.
SELECT e.id, w.rule, e.severity, e.occurred_at, e.description, e.grid_code, b.code AS building_code, b.address,
       count(*) OVER () AS matched
FROM onemap.event AS e
JOIN onemap.warning AS w ON w.event_id = e.id AND w.rule = ANY(%(door_rules)s::text[])
LEFT JOIN onemap.building AS b ON b.id = e.building_id
WHERE e.grid_code = ANY(%(grids)s::text[]) AND e.status <> 'closed'
ORDER BY e.occurred_at DESC, e.id
LIMIT %(limit)s
