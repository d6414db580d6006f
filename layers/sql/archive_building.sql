-- One building, one file: the building as of %(as_of)s (NULL = now), its house units with their residents,
-- the enterprises in it, its events and open verification issues, and a timeline of changes.
-- %(unmasked)s decides whether personal fields are shown raw or through onemap.mask_* (de-identification
-- happens here, in SQL). Versioned tables are read as of the instant through their <table>_history.
WITH params AS (
    SELECT coalesce(%(as_of)s::timestamptz, now()) AS at,
           (coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE 'Asia/Shanghai')::date AS day,
           %(unmasked)s::boolean AS unmasked,
           %(show_enterprises)s::boolean AS show_enterprises,
           %(show_events)s::boolean AS show_events,
           %(show_issues)s::boolean AS show_issues
),
b AS (
    SELECT v.* FROM (
        SELECT id, code, name, address, use, floors, height_m, structure, built_year, street_code, community_code,
               grid_code, geom, valid_from, NULL::timestamptz AS valid_to
        FROM onemap.building WHERE code = %(code)s
        UNION ALL
        SELECT id, code, name, address, use, floors, height_m, structure, built_year, street_code, community_code,
               grid_code, geom, valid_from, valid_to
        FROM onemap.building_history WHERE code = %(code)s
    ) AS v, params
    WHERE v.valid_from <= params.at AND (v.valid_to IS NULL OR v.valid_to > params.at)
    ORDER BY v.valid_from DESC LIMIT 1
),
units AS (
    SELECT DISTINCT ON (u.id) u.* FROM (
        SELECT id, building_id, unit_no, floor, room_no, area_m2, use, valid_from, NULL::timestamptz AS valid_to
        FROM onemap.house_unit WHERE building_id = (SELECT id FROM b)
        UNION ALL
        SELECT id, building_id, unit_no, floor, room_no, area_m2, use, valid_from, valid_to
        FROM onemap.house_unit_history WHERE building_id = (SELECT id FROM b)
    ) AS u, params
    WHERE u.valid_from <= params.at AND (u.valid_to IS NULL OR u.valid_to > params.at)
    ORDER BY u.id, u.valid_from DESC
),
residents AS (
    SELECT r.house_unit_id, r.relation, r.valid_from, r.valid_to, p.id AS person_id, p.id_number, p.name, p.sex,
           p.birth_date, p.phone, p.household_type
    FROM onemap.residence AS r
    JOIN units ON units.id = r.house_unit_id
    JOIN onemap.person AS p ON p.id = r.person_id
    CROSS JOIN params
    WHERE r.valid_from <= params.day AND (r.valid_to IS NULL OR r.valid_to > params.day)
),
firms AS (
    SELECT DISTINCT ON (e.id) e.* FROM (
        SELECT id, credit_code, name, kind, industry, status, registered_on, employees, house_unit_id, building_id,
               valid_from, NULL::timestamptz AS valid_to
        FROM onemap.enterprise WHERE building_id = (SELECT id FROM b)
        UNION ALL
        SELECT id, credit_code, name, kind, industry, status, registered_on, employees, house_unit_id, building_id,
               valid_from, valid_to
        FROM onemap.enterprise_history WHERE building_id = (SELECT id FROM b)
    ) AS e, params
    WHERE e.valid_from <= params.at AND (e.valid_to IS NULL OR e.valid_to > params.at) AND params.show_enterprises
    ORDER BY e.id, e.valid_from DESC
),
happenings AS (
    SELECT ev.id, ev.kind, ev.severity, ev.occurred_at, ev.description, ev.status
    FROM onemap.event AS ev, params
    WHERE ev.building_id = (SELECT id FROM b) AND ev.occurred_at <= params.at AND params.show_events
    ORDER BY ev.occurred_at DESC LIMIT 100
),
issues AS (
    SELECT vi.id, vi.entity_kind,
           -- a person issue's key is an ID number: masked like every other ID number of the file
           CASE WHEN vi.entity_kind = 'person' AND NOT params.unmasked THEN onemap.mask_id_number(vi.entity_key)
                ELSE vi.entity_key END AS entity_key,
           vi.attribute, vi.authoritative_department, vi.status, vi.created_at,
           CASE WHEN vi.entity_kind = 'person' AND NOT params.unmasked THEN NULL ELSE vi.values END AS values
    FROM onemap.verification_issue AS vi, params
    WHERE vi.building_id = (SELECT id FROM b) AND vi.status = 'open' AND vi.created_at <= params.at
      AND params.show_issues
),
timeline AS (
    SELECT h.valid_from AS at, 'building_' || lower(h.operation) AS kind, 'version valid until ' || h.valid_to AS summary
    FROM onemap.building_history AS h, params WHERE h.id = (SELECT id FROM b) AND h.valid_to <= params.at
    UNION ALL
    SELECT r.valid_from::timestamptz, 'moved_in',
           CASE WHEN params.unmasked THEN r.name ELSE onemap.mask_name(r.name) END || ' (' || r.relation || ')'
    FROM residents AS r, params
    UNION ALL
    SELECT f.registered_on::timestamptz, 'enterprise_registered', f.name FROM firms AS f
    UNION ALL
    SELECT ev.occurred_at, 'event:' || ev.kind, ev.description FROM happenings AS ev
)
SELECT b.grid_code, json_build_object(
    'type', 'Feature',
    'id', b.code,
    'geometry', ST_AsGeoJSON(b.geom)::json,
    'properties', json_build_object(
        'code', b.code, 'name', b.name, 'address', b.address, 'use', b.use, 'floors', b.floors,
        'height_m', b.height_m, 'structure', b.structure, 'built_year', b.built_year,
        'street_code', b.street_code, 'community_code', b.community_code, 'grid_code', b.grid_code,
        'valid_from', b.valid_from, 'valid_to', b.valid_to),
    'as_of', params.at,
    'masked', NOT params.unmasked,
    'units', coalesce((
        SELECT json_agg(json_build_object(
            'id', u.id, 'unit_no', u.unit_no, 'floor', u.floor, 'room_no', u.room_no, 'area_m2', u.area_m2,
            'use', u.use,
            'residents', coalesce((
                SELECT json_agg(json_build_object(
                    'person', CASE WHEN params.unmasked THEN r.id_number ELSE r.person_id::text END,
                    'id_number', CASE WHEN params.unmasked THEN r.id_number::text
                                      ELSE onemap.mask_id_number(r.id_number::text) END,
                    'name', CASE WHEN params.unmasked THEN r.name ELSE onemap.mask_name(r.name) END,
                    'phone', CASE WHEN params.unmasked THEN r.phone ELSE onemap.mask_phone(r.phone) END,
                    'sex', r.sex,
                    'birth', CASE WHEN params.unmasked THEN r.birth_date::text
                                  ELSE extract(year FROM r.birth_date)::int::text END,
                    'household_type', r.household_type, 'relation', r.relation,
                    'valid_from', r.valid_from, 'valid_to', r.valid_to) ORDER BY r.relation, r.person_id)
                FROM residents AS r WHERE r.house_unit_id = u.id), '[]'::json)
        ) ORDER BY u.floor, u.unit_no, u.room_no) FROM units AS u), '[]'::json),
    'enterprises', coalesce((
        SELECT json_agg(json_build_object(
            'credit_code', f.credit_code, 'name', f.name, 'kind', f.kind, 'industry', f.industry,
            'status', f.status, 'registered_on', f.registered_on, 'employees', f.employees,
            'house_unit_id', f.house_unit_id) ORDER BY f.credit_code) FROM firms AS f), '[]'::json),
    'events', coalesce((SELECT json_agg(row_to_json(ev) ORDER BY ev.occurred_at DESC) FROM happenings AS ev),
                       '[]'::json),
    'verification_issues', coalesce((SELECT json_agg(row_to_json(i) ORDER BY i.id) FROM issues AS i), '[]'::json),
    'timeline', coalesce((SELECT json_agg(row_to_json(t) ORDER BY t.at DESC, t.kind)
                          FROM (SELECT * FROM timeline ORDER BY at DESC LIMIT 200) AS t), '[]'::json)
)::text AS archive
FROM b, params
