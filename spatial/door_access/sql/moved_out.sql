-- Suspected moved out: a resident registered at a gated building (one whose gate reported since the start of the
-- period) since before the period, whose face was not matched there in the last %(unseen_days)s days.
CREATE TEMP TABLE door_gated ON COMMIT DROP AS
SELECT building_id FROM onemap.door_access_event
WHERE occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
  AND occurred_at <= %(until)s::timestamptz
GROUP BY building_id
HAVING min(occurred_at) <= %(until)s::timestamptz - make_interval(days => %(unseen_days)s - 1);

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
      SELECT 1 FROM onemap.door_access_event e
      WHERE e.person_key = p.id_number::text AND e.building_id = r.building_id AND e.key_kind = 'id_number'
        AND e.confidence >= %(min_confidence)s
        AND e.occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
        AND e.occurred_at <= %(until)s::timestamptz
  );
