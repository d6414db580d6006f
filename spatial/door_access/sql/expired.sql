-- Day partitions wholly older than the retention.
SELECT c.relname AS name
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE n.nspname = 'onemap' AND p.relname = 'door_access_event'
  AND c.relname ~ '^door_access_event_[0-9]{8}$'
  AND to_date(right(c.relname, 8), 'YYYYMMDD') < (now() AT TIME ZONE 'Asia/Shanghai')::date - %(days)s
ORDER BY 1
