-- The last counted match of each face key at each building (door_last_seen), for "not seen for 30 days", from
-- the events of the relation in braces (occurred_at, building_id, key_kind, person_key, confidence): a delivery's
-- new events, or every event when the table is rebuilt (store.rebuild_last_seen).
INSERT INTO onemap.door_last_seen (person_key, building_id, seen_at)
SELECT person_key, building_id, max(occurred_at)
FROM {events} new_events
WHERE key_kind = 'id_number' AND confidence >= (SELECT min_confidence FROM onemap.door_night_basis)
GROUP BY 1, 2
ON CONFLICT (person_key, building_id)
DO UPDATE SET seen_at = greatest(onemap.door_last_seen.seen_at, EXCLUDED.seen_at);
