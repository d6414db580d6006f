-- Suspected unregistered resident: a face matched (confidence >= %(min_confidence)s) entering a building on at
-- least %(nights)s nights of the last %(nights_days)s days, by someone with no current residence there.
-- A night runs from %(night_starts)s:00 to %(night_ends)s:00 the next morning (Beijing time).
INSERT INTO monitor_hit
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
