-- Open door-access warnings against the generator's answer key, per rule.
WITH found AS (
    SELECT w.rule, w.subject_key FROM onemap.warning w JOIN onemap.event e ON e.id = w.event_id
    WHERE w.rule = ANY(%(rules)s) AND e.status <> 'closed'
)
SELECT r.rule,
       (SELECT count(*) FROM found f WHERE f.rule = r.rule) AS found,
       (SELECT count(*) FROM onemap.planted_door_anomaly p WHERE p.rule = r.rule) AS planted,
       (SELECT count(*) FROM found f JOIN onemap.planted_door_anomaly p USING (rule, subject_key) WHERE f.rule = r.rule)
           AS matched
FROM unnest(%(rules)s::text[]) AS r(rule)
ORDER BY r.rule
