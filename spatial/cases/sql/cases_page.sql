-- A page of cases in the caller's scope, newest change first. The versions placeholder takes
-- versions_current.sql, or versions_as_of.sql for "as of" an instant. Contacts are masked unless %(unmasked)s.
WITH listed AS (
    SELECT c.*
    FROM ({versions}) c
    WHERE {filter}
    ORDER BY c.valid_from DESC, c.id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT l.id, l.category, l.state, l.source_kind, l.source_ref, l.description, l.address, l.grid_code,
       l.street_code, l.department, l.escalation_level, l.due_at, l.overdue, l.returned_count, l.reopened_count,
       l.created_at, l.valid_from AS updated_at, b.code AS building_code,
       CASE WHEN %(unmasked)s THEN l.contact ELSE jsonb_strip_nulls(jsonb_build_object(
           'name', onemap.mask_name(l.contact ->> 'name'), 'phone', onemap.mask_phone(l.contact ->> 'phone'),
           'email', CASE WHEN l.contact ? 'email' THEN '***' END)) END AS contact,
       ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
       (SELECT t.assignee FROM onemap.case_transition t
        WHERE t.case_id = l.id AND t.action = 'assign'
          AND (%(as_of)s::timestamptz IS NULL OR t.at <= %(as_of)s::timestamptz)
        ORDER BY t.at DESC, t.id DESC LIMIT 1) AS assignee
FROM listed l
LEFT JOIN onemap.building b ON b.id = l.building_id
ORDER BY l.valid_from DESC, l.id DESC
