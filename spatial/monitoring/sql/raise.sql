-- New hits raise one event and its warning each (event ids drawn first so both rows can be written set-wise);
-- hits already warned about are refreshed; open warnings whose condition is gone are closed by the monitor.
-- A de-duplicated subject (one hit per rule and subject; the union rules can repeat a building).
CREATE TEMP TABLE monitor_fresh ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('onemap.event', 'id')) AS event_id, h.*
FROM (SELECT DISTINCT ON (rule, subject_key) * FROM monitor_hit ORDER BY rule, subject_key, severity DESC) h
WHERE NOT EXISTS (SELECT 1 FROM onemap.warning w WHERE w.rule = h.rule AND w.subject_key = h.subject_key);

INSERT INTO onemap.event (id, kind, severity, occurred_at, building_id, grid_code, description, status, geom)
SELECT f.event_id, f.rule, f.severity, now(), f.building_id, g.grid_code, f.description, 'open',
       ST_PointOnSurface(g.geom)
FROM monitor_fresh f
JOIN onemap.building g ON g.id = f.building_id;

WITH raised AS (
    INSERT INTO onemap.warning (event_id, rule, subject_key, detail)
    SELECT event_id, rule, subject_key, detail FROM monitor_fresh
    RETURNING 1
)
SELECT count(*) AS raised FROM raised;

WITH seen AS (
    UPDATE onemap.warning w SET last_seen = now(), detail = h.detail
    FROM monitor_hit h
    WHERE w.rule = h.rule AND w.subject_key = h.subject_key
      AND NOT EXISTS (SELECT 1 FROM monitor_fresh f WHERE f.event_id = w.event_id)
    RETURNING 1
)
SELECT count(*) AS still_holding FROM seen;

WITH gone AS (
    SELECT w.event_id FROM onemap.warning w
    JOIN onemap.event e ON e.id = w.event_id
    WHERE e.status <> 'closed' AND w.rule = ANY(%(rules)s)
      AND NOT EXISTS (SELECT 1 FROM monitor_hit h WHERE h.rule = w.rule AND h.subject_key = w.subject_key)
), closed_events AS (
    UPDATE onemap.event e SET status = 'closed' FROM gone WHERE e.id = gone.event_id RETURNING e.id
), noted AS (
    UPDATE onemap.warning w SET handled_by = 'onemap monitor', note = 'the condition no longer holds',
                               updated_at = now()
    FROM closed_events c WHERE w.event_id = c.id
    RETURNING 1
)
SELECT count(*) AS resolved FROM noted;
