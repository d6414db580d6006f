-- A page of cases in the caller's scope, newest change first, "as of" an instant when one is given (then the
-- versions valid at that instant, from the table and its history). Contacts are masked unless %(unmasked)s.
WITH versions AS (
    SELECT id, category, state, source_kind, source_ref, description, address, building_id, grid_code,
           street_code, department, reporter, contact, escalation_level, due_at, overdue, returned_count,
           reopened_count, created_at, valid_from, geom
    FROM onemap.service_case
    WHERE %(as_of)s::timestamptz IS NULL OR valid_from <= %(as_of)s::timestamptz
    UNION ALL
    SELECT id, category, state, source_kind, source_ref, description, address, building_id, grid_code,
           street_code, department, reporter, contact, escalation_level, due_at, overdue, returned_count,
           reopened_count, created_at, valid_from, geom
    FROM onemap.service_case_history
    WHERE %(as_of)s::timestamptz IS NOT NULL
      AND valid_from <= %(as_of)s::timestamptz AND valid_to > %(as_of)s::timestamptz
), listed AS (
    SELECT c.*, count(*) OVER () AS matched
    FROM versions c
    WHERE (%(grid)s::text IS NULL OR c.grid_code = %(grid)s::text)
      AND (%(department)s::text IS NULL OR c.department = %(department)s::text)
      AND (%(states)s::text[] IS NULL OR c.state = ANY(%(states)s::text[]))
      AND (%(category)s::text IS NULL OR c.category = %(category)s::text)
      AND (%(street)s::text IS NULL OR c.street_code = %(street)s::text)
      AND (%(source_kind)s::text IS NULL OR c.source_kind = %(source_kind)s::text)
      AND (%(overdue)s::boolean IS NULL OR c.overdue = %(overdue)s::boolean)
      AND (%(since)s::timestamptz IS NULL OR c.valid_from > %(since)s::timestamptz)
    ORDER BY c.valid_from DESC, c.id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT l.id, l.category, l.state, l.source_kind, l.source_ref, l.description, l.address, l.grid_code,
       l.street_code, l.department, l.escalation_level, l.due_at, l.overdue, l.returned_count, l.reopened_count,
       l.created_at, l.valid_from AS updated_at, b.code AS building_code,
       CASE WHEN %(unmasked)s THEN l.contact ELSE jsonb_strip_nulls(jsonb_build_object(
           'name', onemap.mask_name(l.contact ->> 'name'), 'phone', onemap.mask_phone(l.contact ->> 'phone'),
           'email', CASE WHEN l.contact ? 'email' THEN '***' END)) END AS contact,
       ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat, l.matched
FROM listed l
LEFT JOIN onemap.building b ON b.id = l.building_id
ORDER BY l.valid_from DESC, l.id DESC
