-- A page of warnings (monitoring hits and grid events), newest change first, de-identified in SQL: residents of
-- the unit concerned are shown masked unless the caller sees personal data (%(unmasked)s).
WITH listed AS (
    SELECT e.id, e.kind, e.severity, e.status, e.occurred_at, coalesce(w.updated_at, e.valid_from) AS updated_at,
           e.grid_code, e.description, e.building_id, w.note, w.handled_by, w.detail,
           count(*) OVER () AS matched
    FROM onemap.event e
    LEFT JOIN onemap.warning w ON w.event_id = e.id
    WHERE (%(grid)s::text IS NULL OR e.grid_code = %(grid)s::text)
      AND (%(status)s::text IS NULL OR e.status = %(status)s::text)
      AND (%(kind)s::text IS NULL OR e.kind = %(kind)s::text)
      AND e.severity >= %(min_severity)s
      AND (%(since)s::timestamptz IS NULL OR coalesce(w.updated_at, e.valid_from) > %(since)s::timestamptz)
    ORDER BY coalesce(w.updated_at, e.valid_from) DESC, e.id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT l.id, l.kind, l.severity, l.status, l.occurred_at, l.updated_at, l.grid_code, l.description, l.note,
       l.handled_by, l.matched, g.code AS building_code, g.address, l.detail ->> 'room_no' AS room_no,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', CASE WHEN %(unmasked)s THEN p.name ELSE onemap.mask_name(p.name) END,
                   'phone', CASE WHEN %(unmasked)s THEN p.phone ELSE onemap.mask_phone(p.phone) END,
                   'id_number', CASE WHEN %(unmasked)s THEN p.id_number
                                     ELSE onemap.mask_id_number(p.id_number) END,
                   'relation', r.relation) ORDER BY p.id), '[]'::jsonb)
        FROM onemap.residence r
        JOIN onemap.person p ON p.id = r.person_id
        WHERE r.house_unit_id = (l.detail ->> 'house_unit_id')::bigint AND r.valid_to IS NULL) AS contacts
FROM listed l
LEFT JOIN onemap.building g ON g.id = l.building_id
ORDER BY l.updated_at DESC, l.id DESC
