-- The days that have a partition of door_access_event.
SELECT to_date(right(c.relname, 8), 'YYYYMMDD') AS day
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'onemap.door_access_event'::regclass AND c.relname ~ '^door_access_event_[0-9]{8}$'
ORDER BY 1
