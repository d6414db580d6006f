-- Open warnings (monitoring hits, door-access hits, grid events) of a known category become registered cases,
-- once each: routed by category and location (%(routes)s, most specific area first), due per %(dues)s.
WITH routes AS (
    SELECT * FROM jsonb_to_recordset(%(routes)s::jsonb) AS r(category text, area_code text, department text)
), dues AS (
    SELECT key AS category, value::timestamptz AS due FROM jsonb_each_text(%(dues)s::jsonb)
), created AS (
    INSERT INTO onemap.service_case (category, state, source_kind, source_ref, description, address, building_id,
                                     grid_code, street_code, department, reporter, due_at, geom)
    SELECT e.kind, 'registered', 'warning', e.id::text, e.description, b.address, e.building_id, e.grid_code,
           coalesce(b.street_code, c.parent_code),
           (SELECT r.department FROM routes r
            WHERE r.category = e.kind AND r.area_code IN (e.grid_code, g.parent_code, c.parent_code, '')
            ORDER BY CASE r.area_code WHEN e.grid_code THEN 0 WHEN g.parent_code THEN 1
                                      WHEN c.parent_code THEN 2 ELSE 3 END
            LIMIT 1),
           'onemap monitor', d.due, e.geom
    FROM onemap.event e
    JOIN dues d ON d.category = e.kind
    JOIN onemap.admin_area g ON g.code = e.grid_code
    LEFT JOIN onemap.admin_area c ON c.code = g.parent_code
    LEFT JOIN onemap.building b ON b.id = e.building_id
    WHERE e.status <> 'closed'
      AND NOT EXISTS (SELECT 1 FROM onemap.service_case s
                      WHERE s.source_kind = 'warning' AND s.source_ref = e.id::text)
    ORDER BY e.id
    ON CONFLICT DO NOTHING
    RETURNING id, state, department, source_ref
), opened AS (
    INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note)
    SELECT id, 'open', NULL, state, 'onemap monitor', 'system', department, 'from warning ' || source_ref
    FROM created
)
SELECT count(*) AS opened FROM created
