-- Door-access anomalies still open at each instant, per door-access rule (%(door_rules)s), in each area: the
-- de-identified warnings the door-access rules raised (see warnings_by_rule.sql for the versions).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, w.rule AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT id, grid_code, status FROM onemap.event WHERE valid_from <= t.at AND occurred_at <= t.at
    UNION ALL
    SELECT id, grid_code, status FROM onemap.event_history
    WHERE valid_from <= t.at AND valid_to > t.at AND occurred_at <= t.at
) AS e
JOIN onemap.warning AS w ON w.event_id = e.id AND w.rule = ANY(%(door_rules)s::text[])
JOIN scope AS s ON s.grid_code = e.grid_code
WHERE e.status <> 'closed'
GROUP BY 1, 2, 3
