-- The door-access rules as first written: straight over the raw events (no per-day aggregates). The test of
-- the rules compares their hits with these at several instants, window edges included.

-- Suspected unregistered resident: a face matched (confidence >= %(min_confidence)s) entering a building on at
-- least %(nights)s nights of the last %(nights_days)s days, by someone with no current residence there.
-- A night runs from %(night_starts)s:00 to %(night_ends)s:00 the next morning (Beijing time).
INSERT INTO reference_hit
SELECT 'unregistered_resident', b.code || ':' || n.person_key, n.building_id, 3,
       format('疑似未登记人员 someone seen on %%s nights in %%s days at this building, with no residence here',
              n.nights, %(nights_days)s),
       jsonb_build_object('nights', n.nights, 'person', onemap.mask_id_number(n.person_key))
FROM (
    SELECT e.person_key, e.building_id,
           count(DISTINCT ((e.occurred_at AT TIME ZONE 'Asia/Shanghai') - make_interval(hours => %(night_ends)s))::date)
               AS nights
    FROM onemap.door_access_event e
    WHERE e.occurred_at > %(until)s::timestamptz - make_interval(days => %(nights_days)s)
      AND e.occurred_at <= %(until)s::timestamptz
      AND e.key_kind = 'id_number' AND e.confidence >= %(min_confidence)s
      AND (extract(hour FROM e.occurred_at AT TIME ZONE 'Asia/Shanghai') >= %(night_starts)s
           OR extract(hour FROM e.occurred_at AT TIME ZONE 'Asia/Shanghai') < %(night_ends)s)
    GROUP BY e.person_key, e.building_id
    HAVING count(DISTINCT ((e.occurred_at AT TIME ZONE 'Asia/Shanghai') - make_interval(hours => %(night_ends)s))::date)
           >= %(nights)s
) n
JOIN onemap.building b ON b.id = n.building_id
WHERE NOT EXISTS (
    SELECT 1 FROM onemap.person p
    JOIN onemap.residence r ON r.person_id = p.id
    WHERE p.id_number = n.person_key::bpchar AND r.building_id = n.building_id AND r.valid_to IS NULL
);

-- Suspected moved out: a resident registered at a gated building (one whose gate reported since the start of the
-- period) since before the period, whose face was not matched there in the last %(unseen_days)s days.
CREATE TEMP TABLE reference_gated ON COMMIT DROP AS
SELECT building_id FROM onemap.door_access_event
WHERE occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
  AND occurred_at <= %(until)s::timestamptz
GROUP BY building_id
HAVING min(occurred_at) <= %(until)s::timestamptz - make_interval(days => %(unseen_days)s - 1);

INSERT INTO reference_hit
SELECT 'moved_out', b.code || ':' || p.id_number, r.building_id, 2,
       format('疑似迁出 a registered resident not seen at the gate for %%s days', %(unseen_days)s),
       jsonb_build_object('house_unit_id', r.house_unit_id, 'room_no', u.room_no,
                          'person', onemap.mask_id_number(p.id_number))
FROM reference_gated g
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

-- One card used at %(card_buildings)s or more buildings within %(card_minutes)s minutes (the period: the last
-- %(unseen_days)s days). Swipes are bucketed by hour and each swipe is also offered to the previous hour's bucket,
-- so the pairs within a window are found by an equi-join instead of comparing every swipe of a card.
CREATE TEMP TABLE reference_cards ON COMMIT DROP AS
SELECT person_key, building_id, occurred_at, date_trunc('hour', occurred_at) AS bucket
FROM onemap.door_access_event
WHERE key_kind = 'card'
  AND occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
  AND occurred_at <= %(until)s::timestamptz;

INSERT INTO reference_hit
SELECT DISTINCT ON (h.person_key) 'shared_card', 'card:' || h.person_key, h.building_id, 3,
       format('门禁卡多处使用 one card used at %%s buildings within %%s minutes', h.buildings, %(card_minutes)s),
       jsonb_build_object('buildings', h.buildings, 'first_at', h.first_at)
FROM (
    SELECT e1.person_key, e1.building_id, e1.occurred_at AS first_at, count(DISTINCT e2.building_id) AS buildings
    FROM reference_cards e1
    JOIN (SELECT person_key, bucket, building_id, occurred_at FROM reference_cards
          UNION ALL
          SELECT person_key, bucket - interval '1 hour', building_id, occurred_at FROM reference_cards) e2
      ON e2.person_key = e1.person_key AND e2.bucket = e1.bucket
     AND e2.occurred_at >= e1.occurred_at AND e2.occurred_at < e1.occurred_at + make_interval(mins => %(card_minutes)s)
    GROUP BY e1.person_key, e1.building_id, e1.occurred_at
    HAVING count(DISTINCT e2.building_id) >= %(card_buildings)s
) h
ORDER BY h.person_key, h.buildings DESC, h.first_at;
