SELECT e.id, e.kind, e.severity, e.occurred_at, e.building_id, e.grid_code, e.description, e.status, e.geom
FROM onemap.event e
WHERE e.occurred_at < %(as_of_end)s
  AND (%(scope_grid)s::text IS NULL OR e.grid_code = %(scope_grid)s)
  AND (%(event_id)s::bigint IS NULL OR e.id = %(event_id)s)
ORDER BY e.id
