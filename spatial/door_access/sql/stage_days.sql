-- The (Beijing) days a checked delivery covers: each needs its partition.
SELECT DISTINCT (onemap.door_try_time(occurred_at) AT TIME ZONE 'Asia/Shanghai')::date AS day FROM door_stage ORDER BY 1
