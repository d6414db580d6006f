-- A checked delivery into the partitioned table, with each device's building.
WITH written AS (
    INSERT INTO onemap.door_access_event (occurred_at, device_code, building_id, direction, key_kind, person_key,
                                          confidence)
    SELECT onemap.door_try_time(s.occurred_at), s.device, d.building_id, left(s.direction, 1), s.key_kind,
           s.person_key, s.confidence::real
    FROM door_stage s
    JOIN onemap.door_device d ON d.code = s.device
    ORDER BY 1
    RETURNING 1
)
SELECT count(*) AS imported FROM written
