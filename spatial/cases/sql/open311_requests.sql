-- Service requests as GeoReport v2 shows them: citizens' reports through Open311 (every case when
-- %(all_sources)s), filtered by ids, service codes, period and open/closed; never the reporter's contact.
SELECT c.id::text AS service_request_id,
       CASE WHEN c.state = 'closed' THEN 'closed' ELSE 'open' END AS status,
       (SELECT t.note FROM onemap.case_transition t
        WHERE t.case_id = c.id AND t.action IN ('resolve', 'close', 'return', 'reopen') ORDER BY t.at DESC, t.id DESC
        LIMIT 1) AS status_notes,
       c.category AS service_code, c.description, c.department AS agency_responsible, c.created_at AS requested_datetime,
       c.valid_from AS updated_datetime, c.due_at AS expected_datetime, c.address, b.code AS address_id,
       ST_Y(c.geom) AS lat, ST_X(c.geom) AS long
FROM onemap.service_case c
LEFT JOIN onemap.building b ON b.id = c.building_id
WHERE (%(all_sources)s OR c.source_kind = 'open311')
  AND (%(ids)s::bigint[] IS NULL OR c.id = ANY(%(ids)s::bigint[]))
  AND (%(codes)s::text[] IS NULL OR c.category = ANY(%(codes)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR c.created_at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR c.created_at <= %(end)s::timestamptz)
  AND (%(closed)s::boolean IS NULL OR (c.state = 'closed') = %(closed)s::boolean)
ORDER BY c.created_at DESC, c.id DESC
LIMIT %(limit)s
