-- One case as the caller may see it (scope in %(scope_grids)s / %(department)s), contacts masked unless
-- %(unmasked)s, with the grid worker key it was last assigned to.
SELECT c.id, c.category, c.state, c.source_kind, c.source_ref, c.description, c.address, c.grid_code,
       c.street_code, c.department, c.escalation_level, c.due_at, c.overdue, c.returned_count, c.reopened_count,
       c.created_at, c.valid_from AS updated_at, b.code AS building_code, c.reporter,
       CASE WHEN %(unmasked)s THEN c.contact ELSE jsonb_strip_nulls(jsonb_build_object(
           'name', onemap.mask_name(c.contact ->> 'name'), 'phone', onemap.mask_phone(c.contact ->> 'phone'),
           'email', CASE WHEN c.contact ? 'email' THEN '***' END)) END AS contact,
       ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       (SELECT t.assignee FROM onemap.case_transition t WHERE t.case_id = c.id AND t.action = 'assign'
        ORDER BY t.at DESC, t.id DESC LIMIT 1) AS assignee
FROM onemap.service_case c
LEFT JOIN onemap.building b ON b.id = c.building_id
WHERE c.id = %(id)s
  AND (%(scope_grids)s::text[] IS NULL OR c.grid_code = ANY(%(scope_grids)s::text[]))
  AND (%(department)s::text IS NULL OR c.department = %(department)s::text)
