-- A checked delivery into the partitioned table, with each device's building, in time order (BRIN stays tight).
WITH written AS (
    INSERT INTO onemap.door_access_event (occurred_at, device_code, building_id, direction, key_kind, person_key,
                                          confidence)
    SELECT s.at, s.device, d.building_id, left(s.direction, 1), s.key_kind, s.person_key, s.confidence::real
    FROM door_parsed s
    JOIN onemap.door_device d ON d.code = s.device
    ORDER BY s.at
    RETURNING 1
)
SELECT count(*) AS imported FROM written
