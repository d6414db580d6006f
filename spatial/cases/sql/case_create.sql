-- A reported case and the first line of its timeline. A repeated submission (same reporter and idempotency
-- key) writes nothing: the caller then reads the first case with case_by_key.sql.
WITH created AS (
    INSERT INTO onemap.service_case (category, state, source_kind, source_ref, idempotency_key, description,
                                     address, building_id, grid_code, street_code, department, reporter, contact,
                                     due_at, geom)
    VALUES (%(category)s, %(state)s, %(source_kind)s, %(source_ref)s, %(idempotency_key)s, %(description)s,
            %(address)s, %(building_id)s, %(grid_code)s, %(street_code)s, %(department)s, %(reporter)s,
            %(contact)s, %(due_at)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
    ON CONFLICT DO NOTHING
    RETURNING id, state, department
), opened AS (
    INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note,
                                        attachments)
    SELECT id, 'report', NULL, state, %(reporter)s, %(role)s, department, %(description)s, '[]'::jsonb
    FROM created
)
SELECT id FROM created
