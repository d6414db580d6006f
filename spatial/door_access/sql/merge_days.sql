-- Merge the per-day aggregates of newly written events (the relation in braces below: occurred_at,
-- building_id, key_kind, person_key, confidence) into door_face_day and door_card_day, for the days
-- %(first_day)s to %(last_day)s.
-- A key already there that day keeps the better of its old and new confidences, so a day never holds a key
-- twice and a later delivery for the same day (a late file, a correction) reads only its own rows. Two deliveries
-- merging the same key at once can leave it two rows; the rules only ask whether some row reaches a threshold, so
-- their answer is the same.
-- Face matches keep their best confidence of the day, of the day's own night (local hours from night_starts on,
-- and at or after night_ends) and of the hours before night_ends, which belong to the previous day's night:
-- the rules' thresholds apply to those maxima, so any min_confidence gives the raw events' answer.
CREATE TEMP TABLE door_new_face ON COMMIT DROP AS
SELECT e.day, e.building_id, e.person_key, max(e.confidence) AS best,
       max(e.confidence) FILTER (WHERE e.hour >= (SELECT night_starts FROM onemap.door_night_basis)
                                   AND e.hour >= (SELECT night_ends FROM onemap.door_night_basis)) AS late,
       max(e.confidence) FILTER (WHERE e.hour < (SELECT night_ends FROM onemap.door_night_basis)) AS early
FROM (
    SELECT (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           extract(hour FROM occurred_at AT TIME ZONE 'Asia/Shanghai') AS hour, building_id, person_key, confidence
    FROM {events} new_events
    WHERE key_kind = 'id_number'
) e
GROUP BY e.day, e.building_id, e.person_key;

ANALYZE door_new_face;

WITH old AS (
    DELETE FROM onemap.door_face_day f USING door_new_face n
    WHERE f.day = n.day AND f.building_id = n.building_id AND f.person_key = n.person_key
      AND f.day BETWEEN %(first_day)s AND %(last_day)s
    RETURNING f.day, f.building_id, f.person_key, f.best, f.late, f.early
)
INSERT INTO onemap.door_face_day (day, building_id, person_key, best, late, early)
SELECT day, building_id, person_key, max(best), max(late), max(early)
FROM (SELECT * FROM old UNION ALL SELECT * FROM door_new_face) merged
GROUP BY day, building_id, person_key;

INSERT INTO onemap.door_card_day (day, building_id, card)
SELECT DISTINCT n.day, n.building_id, n.person_key
FROM (
    SELECT (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, building_id, person_key
    FROM {events} new_events
    WHERE key_kind = 'card'
) n
WHERE NOT EXISTS (
    SELECT 1 FROM onemap.door_card_day c
    WHERE c.day = n.day AND c.building_id = n.building_id AND c.card = n.person_key
      AND c.day BETWEEN %(first_day)s AND %(last_day)s
);

DROP TABLE door_new_face;
