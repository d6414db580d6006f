-- A delivery of door-access events, as text, before any check (COPY writes here).
CREATE TEMP TABLE door_stage (
    row_no bigserial, device text, occurred_at text, direction text, key_kind text, person_key text, confidence text
) ON COMMIT DROP
