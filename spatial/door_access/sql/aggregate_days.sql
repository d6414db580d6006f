-- Rebuild the per-day aggregates of the (day, building) pairs in door_touched from their events. A load adds
-- events to some gates' days; those rows are recomputed whole, so a day never holds a key twice and a later
-- delivery for the same day (a late file, a correction) is counted exactly once.
-- Face matches keep their best confidence of the day, of the day's own night (local hours from night_starts on,
-- and at or after night_ends) and of the hours before night_ends, which belong to the previous day's night:
-- the rules' thresholds apply to those maxima, so any min_confidence gives the raw events' answer.
ANALYZE door_touched;

DELETE FROM onemap.door_face_day f USING door_touched t
WHERE f.day = t.day AND f.building_id = t.building_id AND f.day BETWEEN %(first_day)s AND %(last_day)s;

DELETE FROM onemap.door_card_day c USING door_touched t
WHERE c.day = t.day AND c.building_id = t.building_id AND c.day BETWEEN %(first_day)s AND %(last_day)s;

INSERT INTO onemap.door_face_day (day, building_id, person_key, best, late, early)
SELECT e.day, e.building_id, e.person_key, max(e.confidence),
       max(e.confidence) FILTER (WHERE e.hour >= (SELECT night_starts FROM onemap.door_night_basis)
                                   AND e.hour >= (SELECT night_ends FROM onemap.door_night_basis)),
       max(e.confidence) FILTER (WHERE e.hour < (SELECT night_ends FROM onemap.door_night_basis))
FROM (
    SELECT (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           extract(hour FROM occurred_at AT TIME ZONE 'Asia/Shanghai') AS hour, building_id, person_key, confidence
    FROM onemap.door_access_event
    WHERE key_kind = 'id_number' AND occurred_at >= %(from)s AND occurred_at < %(to)s
) e
JOIN door_touched t ON t.day = e.day AND t.building_id = e.building_id
GROUP BY e.day, e.building_id, e.person_key;

INSERT INTO onemap.door_card_day (day, building_id, card)
SELECT DISTINCT e.day, e.building_id, e.person_key
FROM (
    SELECT (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, building_id, person_key
    FROM onemap.door_access_event
    WHERE key_kind = 'card' AND occurred_at >= %(from)s AND occurred_at < %(to)s
) e
JOIN door_touched t ON t.day = e.day AND t.building_id = e.building_id;
