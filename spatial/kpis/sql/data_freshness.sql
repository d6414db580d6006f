-- Data freshness per department at each instant: its catalogue's data items, how many are overdue (nothing
-- received, or the last delivery older than the item's frequency promises; %(frequencies)s maps a frequency to
-- its interval in seconds) and the hours since the department's last delivery. Deliveries are not in a grid:
-- the rows have no area (area_code NULL) and count for every scope.
WITH t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
), frequencies AS (
    SELECT key AS frequency, value::float8 AS seconds FROM jsonb_each_text(%(frequencies)s::jsonb)
), items AS (
    SELECT t.at, i.department, d.last_delivery,
           d.last_delivery IS NULL OR d.last_delivery + make_interval(secs => coalesce(
               f.seconds, (SELECT seconds FROM frequencies WHERE frequency = 'daily'))) < t.at AS overdue
    FROM t
    CROSS JOIN onemap.source_item AS i
    LEFT JOIN frequencies AS f ON f.frequency = i.frequency
    LEFT JOIN LATERAL (
        SELECT max(received_at) AS last_delivery FROM onemap.source_delivery
        WHERE item_id = i.id AND received_at <= t.at
    ) AS d ON true
)
SELECT at, NULL::text AS area_code, department || ':items' AS key, count(*)::float8 AS value
FROM items GROUP BY 1, 3
UNION ALL
SELECT at, NULL, department || ':overdue', (count(*) FILTER (WHERE overdue))::float8 FROM items GROUP BY 1, 3
UNION ALL
SELECT at, NULL, department || ':hours_since_delivery',
       round((extract(epoch FROM at - max(last_delivery)) / 3600)::numeric, 1)::float8
FROM items GROUP BY 1, 3 HAVING max(last_delivery) IS NOT NULL
