-- One enterprise, one file: the enterprise as of %(as_of)s (NULL = now) by credit code, its building and house
-- unit, the verification issues about it, which departments reported it, events at its building, and a
-- timeline of its versions.
WITH params AS (
    SELECT coalesce(%(as_of)s::timestamptz, now()) AS at,
           %(show_enterprises)s::boolean AS show_enterprises,
           %(show_events)s::boolean AS show_events,
           %(show_issues)s::boolean AS show_issues
),
e AS (
    SELECT v.* FROM (
        SELECT id, credit_code, credit_code_check_ok, name, kind, industry, status, registered_on, employees,
               building_id, house_unit_id, geom, valid_from, NULL::timestamptz AS valid_to
        FROM onemap.enterprise WHERE credit_code = %(credit_code)s
        UNION ALL
        SELECT id, credit_code, credit_code_check_ok, name, kind, industry, status, registered_on, employees,
               building_id, house_unit_id, geom, valid_from, valid_to
        FROM onemap.enterprise_history WHERE credit_code = %(credit_code)s
    ) AS v, params
    WHERE v.valid_from <= params.at AND (v.valid_to IS NULL OR v.valid_to > params.at)
    ORDER BY v.valid_from DESC LIMIT 1
),
place AS (
    SELECT b.code, b.address, b.grid_code, u.unit_no, u.floor, u.room_no
    FROM e JOIN onemap.building AS b ON b.id = e.building_id
    LEFT JOIN onemap.house_unit AS u ON u.id = e.house_unit_id
),
issues AS (
    SELECT vi.id, vi.attribute, vi.authoritative_department, vi.status, vi.created_at, vi.values
    FROM onemap.verification_issue AS vi, e, params
    WHERE vi.entity_kind = 'enterprise' AND vi.entity_key = e.credit_code AND vi.created_at <= params.at
      AND params.show_issues
),
reports AS (
    SELECT s.department, count(*) AS records, max(s.received_at) AS last_received
    FROM onemap.source_record AS s, e, params
    WHERE s.entity_kind = 'enterprise' AND s.entity_key = e.credit_code AND s.received_at <= params.at
    GROUP BY s.department
),
happenings AS (
    SELECT ev.id, ev.kind, ev.severity, ev.occurred_at, ev.status
    FROM onemap.event AS ev, e, params
    WHERE ev.building_id = e.building_id AND ev.occurred_at <= params.at AND params.show_events
    ORDER BY ev.occurred_at DESC LIMIT 50
),
timeline AS (
    SELECT e.registered_on::timestamptz AS at, 'registered' AS kind, e.name AS summary FROM e
    UNION ALL
    SELECT h.valid_from, 'enterprise_' || lower(h.operation), h.status || ', valid until ' || h.valid_to
    FROM onemap.enterprise_history AS h, params WHERE h.id = (SELECT id FROM e) AND h.valid_to <= params.at
)
SELECT (SELECT grid_code FROM place) AS grid_code, json_build_object(
    'type', 'Feature',
    'id', e.credit_code,
    'geometry', ST_AsGeoJSON(e.geom)::json,
    'properties', json_build_object(
        'credit_code', e.credit_code, 'credit_code_check_ok', e.credit_code_check_ok, 'name', e.name,
        'kind', e.kind, 'industry', e.industry, 'status', e.status, 'registered_on', e.registered_on,
        'employees', e.employees, 'valid_from', e.valid_from, 'valid_to', e.valid_to),
    'as_of', params.at,
    'building', (SELECT row_to_json(place) FROM place),
    'verification_issues', coalesce((SELECT json_agg(row_to_json(i) ORDER BY i.id) FROM issues AS i), '[]'::json),
    'reported_by', coalesce((SELECT json_agg(row_to_json(s) ORDER BY s.department) FROM reports AS s), '[]'::json),
    'events', coalesce((SELECT json_agg(row_to_json(h) ORDER BY h.occurred_at DESC) FROM happenings AS h),
                       '[]'::json),
    'timeline', coalesce((SELECT json_agg(row_to_json(t) ORDER BY t.at DESC) FROM timeline AS t), '[]'::json)
)::text AS archive
FROM e, params
