-- Suspected moved out: a resident registered at a gated building (one whose gate reported since the start of the
-- period) since before the period, whose face was not matched there in the last %(unseen_days)s days.
-- A gate reported since the start when it has an event in the period's first day (a day of raw events, pruned
-- by partition and BRIN).
CREATE TEMP TABLE door_gated ON COMMIT DROP AS
SELECT DISTINCT building_id FROM onemap.door_access_event
WHERE occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
  AND occurred_at <= %(until)s::timestamptz - make_interval(days => %(unseen_days)s - 1)
  AND occurred_at <= %(until)s::timestamptz;

-- Who was matched where in the period: the pairs last matched within it (door_last_seen, kept by every load),
-- and, for the pairs last matched after it (a period in the past), whether they were also matched within it:
-- whole days from door_face_day, the partial first and last days raw.
CREATE TEMP TABLE door_later ON COMMIT DROP AS
SELECT person_key, building_id FROM onemap.door_last_seen WHERE seen_at > %(until)s::timestamptz;
ANALYZE door_later;

CREATE TEMP TABLE door_seen ON COMMIT DROP AS
SELECT person_key, building_id FROM onemap.door_last_seen
WHERE seen_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s) AND seen_at <= %(until)s::timestamptz
UNION
SELECT person_key, building_id
FROM (
    SELECT person_key, building_id FROM onemap.door_face_day
    WHERE day >= %(unseen_first_day)s AND day < %(unseen_end_day)s AND best >= %(min_confidence)s
    UNION ALL
    SELECT person_key, building_id FROM onemap.door_access_event
    WHERE occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
      AND occurred_at < %(unseen_whole_from)s
      AND key_kind = 'id_number' AND confidence >= %(min_confidence)s
    UNION ALL
    SELECT person_key, building_id FROM onemap.door_access_event
    WHERE occurred_at >= %(unseen_whole_to)s AND occurred_at <= %(until)s::timestamptz
      AND key_kind = 'id_number' AND confidence >= %(min_confidence)s
) AS seen
-- (the first test is evaluated once: with no later pairs, as for a period ending now, nothing is read)
WHERE EXISTS (SELECT 1 FROM door_later)
  AND EXISTS (SELECT 1 FROM door_later AS l WHERE l.person_key = seen.person_key AND l.building_id = seen.building_id);

ANALYZE door_gated;
ANALYZE door_seen;

INSERT INTO monitor_hit
SELECT 'moved_out', b.code || ':' || p.id_number, r.building_id, 2,
       format('疑似迁出 a registered resident not seen at the gate for %%s days', %(unseen_days)s),
       jsonb_build_object('house_unit_id', r.house_unit_id, 'room_no', u.room_no,
                          'person', onemap.mask_id_number(p.id_number))
FROM door_gated g
JOIN onemap.residence r ON r.building_id = g.building_id AND r.valid_to IS NULL
JOIN onemap.person p ON p.id = r.person_id
JOIN onemap.house_unit u ON u.id = r.house_unit_id
JOIN onemap.building b ON b.id = r.building_id
WHERE r.valid_from <= (%(until)s::timestamptz - make_interval(days => %(unseen_days)s))::date
  AND NOT EXISTS (
      SELECT 1 FROM door_seen s WHERE s.person_key = p.id_number::text AND s.building_id = r.building_id
  );
