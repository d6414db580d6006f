-- The (Beijing) days a checked delivery covers: each needs its partition.
SELECT DISTINCT (at AT TIME ZONE 'Asia/Shanghai')::date AS day FROM door_parsed ORDER BY 1
