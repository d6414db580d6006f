-- One person, one file: the person as of %(as_of)s (NULL = now), found by ID number or internal id, with every
-- residence (period, house unit, building, and whether it holds at the instant), the verification issues
-- about them, which departments reported them, and a timeline. Personal fields are masked unless
-- %(unmasked)s. %(grids)s, when set, are the caller's grids: in_grid says whether the person lives there then.
WITH params AS (
    SELECT coalesce(%(as_of)s::timestamptz, now()) AS at,
           (coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE 'Asia/Shanghai')::date AS day,
           %(unmasked)s::boolean AS unmasked,
           %(show_enterprises)s::boolean AS show_enterprises,
           %(show_events)s::boolean AS show_events,
           %(show_issues)s::boolean AS show_issues
),
p AS (
    SELECT v.* FROM (
        SELECT id, id_number, name, sex, birth_date, phone, household_type, valid_from, NULL::timestamptz AS valid_to
        FROM onemap.person WHERE id_number = %(id_number)s OR id = %(person_id)s
        UNION ALL
        SELECT id, id_number, name, sex, birth_date, phone, household_type, valid_from, valid_to
        FROM onemap.person_history WHERE id_number = %(id_number)s OR id = %(person_id)s
    ) AS v, params
    WHERE v.valid_from <= params.at AND (v.valid_to IS NULL OR v.valid_to > params.at)
    ORDER BY v.valid_from DESC LIMIT 1
),
homes AS (
    SELECT r.id, r.relation, r.valid_from, r.valid_to,
           r.valid_from <= params.day AND (r.valid_to IS NULL OR r.valid_to > params.day) AS current,
           u.id AS house_unit_id, u.unit_no, u.floor, u.room_no, b.code AS building_code, b.address, b.grid_code
    FROM onemap.residence AS r
    JOIN onemap.house_unit AS u ON u.id = r.house_unit_id
    JOIN onemap.building AS b ON b.id = u.building_id
    CROSS JOIN params
    WHERE r.person_id = (SELECT id FROM p) AND r.valid_from <= params.day
),
issues AS (
    SELECT vi.id, vi.attribute, vi.authoritative_department, vi.status, vi.created_at,
           CASE WHEN params.unmasked THEN vi.values END AS values
    FROM onemap.verification_issue AS vi, p, params
    WHERE vi.entity_kind = 'person' AND vi.entity_key = p.id_number AND vi.created_at <= params.at
      AND params.show_issues
),
reports AS (
    SELECT s.department, count(*) AS records, max(s.received_at) AS last_received
    FROM onemap.source_record AS s, p, params
    WHERE s.entity_kind = 'person' AND s.entity_key = p.id_number AND s.received_at <= params.at
    GROUP BY s.department
),
timeline AS (
    SELECT h.valid_from AS at, 'person_' || lower(h.operation) AS kind, 'version valid until ' || h.valid_to AS summary
    FROM onemap.person_history AS h, params WHERE h.id = (SELECT id FROM p) AND h.valid_to <= params.at
    UNION ALL
    SELECT h.valid_from::timestamptz, 'moved_in', h.address || ' ' || h.room_no FROM homes AS h
    UNION ALL
    SELECT h.valid_to::timestamptz, 'moved_out', h.address || ' ' || h.room_no
    FROM homes AS h, params WHERE h.valid_to IS NOT NULL AND h.valid_to <= params.day
)
SELECT p.id AS person_id,
       EXISTS (SELECT 1 FROM homes AS h WHERE h.current AND h.grid_code = ANY(%(grids)s::text[])) AS in_grid,
       json_build_object(
    'id', CASE WHEN params.unmasked THEN p.id_number ELSE p.id::text END,
    'id_number', CASE WHEN params.unmasked THEN p.id_number::text ELSE onemap.mask_id_number(p.id_number::text) END,
    'name', CASE WHEN params.unmasked THEN p.name ELSE onemap.mask_name(p.name) END,
    'phone', CASE WHEN params.unmasked THEN p.phone ELSE onemap.mask_phone(p.phone) END,
    'sex', p.sex,
    'birth', CASE WHEN params.unmasked THEN p.birth_date::text ELSE extract(year FROM p.birth_date)::int::text END,
    'household_type', p.household_type,
    'valid_from', p.valid_from, 'valid_to', p.valid_to,
    'as_of', params.at,
    'masked', NOT params.unmasked,
    'residences', coalesce((SELECT json_agg(row_to_json(h) ORDER BY h.valid_from DESC) FROM homes AS h), '[]'::json),
    'verification_issues', coalesce((SELECT json_agg(row_to_json(i) ORDER BY i.id) FROM issues AS i), '[]'::json),
    'reported_by', coalesce((SELECT json_agg(row_to_json(s) ORDER BY s.department) FROM reports AS s), '[]'::json),
    'timeline', coalesce((SELECT json_agg(row_to_json(t) ORDER BY t.at DESC, t.kind) FROM timeline AS t), '[]'::json)
)::text AS archive
FROM p, params
