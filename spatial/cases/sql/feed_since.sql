-- Change-feed rows after %(after)s (at most %(limit)s), each with what a subscriber is shown: `payload` is
-- de-identified, `private` holds the personal fields that only callers who see personal data receive, and
-- grid_code / department decide who receives the row at all. The entity's current version is shown.
SELECT f.id, f.stream, f.at, coalesce(c.grid_code, e.grid_code) AS grid_code, c.department,
       CASE WHEN f.stream = 'cases' THEN jsonb_build_object(
                'id', c.id, 'category', c.category, 'state', c.state, 'department', c.department,
                'grid_code', c.grid_code, 'escalation_level', c.escalation_level, 'due_at', c.due_at,
                'overdue', c.overdue, 'description', c.description, 'source_kind', c.source_kind,
                'updated_at', c.valid_from, 'assignee', a.assignee,
                'contact', jsonb_strip_nulls(jsonb_build_object(
                    'name', onemap.mask_name(c.contact ->> 'name'), 'phone', onemap.mask_phone(c.contact ->> 'phone'),
                    'email', CASE WHEN c.contact ? 'email' THEN '***' END)))
            ELSE jsonb_build_object(
                'id', e.id, 'kind', e.kind, 'severity', e.severity, 'status', e.status, 'grid_code', e.grid_code,
                'description', e.description, 'building', b.code, 'updated_at', coalesce(w.updated_at, e.valid_from),
                'contacts', coalesce(r.masked, '[]'::jsonb))
       END AS payload,
       CASE WHEN f.stream = 'cases' THEN jsonb_build_object('contact', c.contact)
            ELSE jsonb_build_object('contacts', coalesce(r.unmasked, '[]'::jsonb)) END AS private
FROM onemap.change_feed f
LEFT JOIN onemap.service_case c ON f.stream = 'cases' AND c.id = f.entity_id
LEFT JOIN onemap.event e ON f.stream = 'warnings' AND e.id = f.entity_id
LEFT JOIN onemap.warning w ON w.event_id = e.id
LEFT JOIN onemap.building b ON b.id = e.building_id
LEFT JOIN LATERAL (
    SELECT t.assignee FROM onemap.case_transition t WHERE t.case_id = c.id AND t.action = 'assign'
    ORDER BY t.at DESC, t.id DESC LIMIT 1
) a ON f.stream = 'cases'
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object('name', onemap.mask_name(p.name), 'phone', onemap.mask_phone(p.phone),
                                        'id_number', onemap.mask_id_number(p.id_number), 'relation', x.relation)
                     ORDER BY p.id) AS masked,
           jsonb_agg(jsonb_build_object('name', p.name, 'phone', p.phone, 'id_number', p.id_number,
                                        'relation', x.relation) ORDER BY p.id) AS unmasked
    FROM onemap.residence x
    JOIN onemap.person p ON p.id = x.person_id
    WHERE w.detail ? 'house_unit_id' AND x.house_unit_id = (w.detail ->> 'house_unit_id')::bigint
      AND x.valid_to IS NULL
) r ON true
WHERE f.id > %(after)s AND (%(until)s::bigint IS NULL OR f.id <= %(until)s::bigint)
  AND (%(stream)s::text IS NULL OR f.stream = %(stream)s::text)
  AND (c.id IS NOT NULL OR e.id IS NOT NULL)
ORDER BY f.id
LIMIT %(limit)s
