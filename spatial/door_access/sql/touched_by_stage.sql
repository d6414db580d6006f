-- The (day, building) pairs of a checked delivery.
INSERT INTO door_touched
SELECT DISTINCT (s.at AT TIME ZONE 'Asia/Shanghai')::date, d.building_id
FROM door_parsed s
JOIN onemap.door_device d ON d.code = s.device
