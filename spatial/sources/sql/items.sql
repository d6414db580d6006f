-- The catalogue's data items with what arrived for each: last delivery, records accepted, deliveries.
-- Pull sources show only their kind and state: the environment variable naming a DSN is not returned.
SELECT i.id, i.department, i.system_name, i.name, i.entity_kind, i.authoritative_for, i.verifies,
       i.frequency, i.format, i.contact, i.pull ->> 'kind' AS pull_kind, i.pull_mark, i.pull_state,
       d.last_delivery, coalesce(d.records, 0) AS records, coalesce(d.deliveries, 0) AS deliveries
FROM onemap.source_item i
LEFT JOIN LATERAL (
    SELECT max(received_at) AS last_delivery, sum(accepted)::bigint AS records, count(*) AS deliveries
    FROM onemap.source_delivery WHERE item_id = i.id
) d ON true
WHERE %(department)s::text IS NULL OR i.department = %(department)s::text
ORDER BY i.department, i.system_name, i.name
