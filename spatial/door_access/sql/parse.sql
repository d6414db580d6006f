-- The staged delivery with its times parsed once (the checks, the partitions and the insert all need them).
CREATE TEMP TABLE door_parsed ON COMMIT DROP AS
SELECT row_no, device, occurred_at AS at_text, onemap.door_try_time(occurred_at) AS at, direction, key_kind,
       person_key, confidence
FROM door_stage
