-- door_last_seen from every event, in one pass: after the generator or a rebuild has written whole days (an
-- upsert per day would update each of 2.7M keys once a day).
TRUNCATE onemap.door_last_seen;

INSERT INTO onemap.door_last_seen (person_key, building_id, seen_at)
SELECT person_key, building_id, max(occurred_at)
FROM onemap.door_access_event
WHERE key_kind = 'id_number' AND confidence >= (SELECT min_confidence FROM onemap.door_night_basis)
GROUP BY 1, 2;

ANALYZE onemap.door_last_seen;
