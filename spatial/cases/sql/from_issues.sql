-- Open verification issues become registered cases, once each: the authoritative department must settle
-- the disagreement (a route for the issue's area overrides it); entity keys (ID numbers) stay out of the text.
WITH routes AS (
    SELECT * FROM jsonb_to_recordset(%(routes)s::jsonb) AS r(category text, area_code text, department text)
), created AS (
    INSERT INTO onemap.service_case (category, state, source_kind, source_ref, description, address, building_id,
                                     grid_code, street_code, department, reporter, due_at, geom)
    SELECT 'verification_issue', 'registered', 'verification_issue', i.id::text,
           format('数据核验 %%s %%s: sources disagree', i.entity_kind, i.attribute), b.address, i.building_id,
           i.grid_code, coalesce(b.street_code, c.parent_code),
           coalesce(
               (SELECT r.department FROM routes r
                WHERE r.category = 'verification_issue' AND r.area_code IN (i.grid_code, g.parent_code, c.parent_code)
                ORDER BY CASE r.area_code WHEN i.grid_code THEN 0 WHEN g.parent_code THEN 1 ELSE 2 END LIMIT 1),
               i.authoritative_department,
               (SELECT r.department FROM routes r WHERE r.category = 'verification_issue' AND r.area_code = '')),
           'onemap fuse', %(due)s::timestamptz, coalesce(i.geom, ST_PointOnSurface(b.geom))
    FROM onemap.verification_issue i
    JOIN onemap.admin_area g ON g.code = i.grid_code
    LEFT JOIN onemap.admin_area c ON c.code = g.parent_code
    LEFT JOIN onemap.building b ON b.id = i.building_id
    WHERE i.status = 'open' AND coalesce(i.geom, b.geom) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM onemap.service_case s
                      WHERE s.source_kind = 'verification_issue' AND s.source_ref = i.id::text)
    ORDER BY i.id
    ON CONFLICT DO NOTHING
    RETURNING id, state, department, source_ref
), opened AS (
    INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note)
    SELECT id, 'open', NULL, state, 'onemap fuse', 'system', department, 'from verification issue ' || source_ref
    FROM created
)
SELECT count(*) AS opened FROM created
