-- Suspected unregistered resident: a face matched (confidence >= %(min_confidence)s) entering a building on at
-- least %(nights)s nights of the last %(nights_days)s days, by someone with no current residence there.
-- A night runs from %(night_starts)s:00 to %(night_ends)s:00 the next morning (Beijing time).
-- The nights of whole days come from door_face_day (a late match is that day's night, an early one the night
-- before); the window's partial first and last days from the events themselves.
INSERT INTO monitor_hit
SELECT 'unregistered_resident', b.code || ':' || n.person_key, n.building_id, 3,
       format('疑似未登记人员 someone seen on %%s nights in %%s days at this building, with no residence here',
              n.nights, %(nights_days)s),
       jsonb_build_object('nights', n.nights, 'person', onemap.mask_id_number(n.person_key))
FROM (
    SELECT person_key, building_id, count(DISTINCT night) AS nights
    FROM (
        SELECT person_key, building_id, day AS night
        FROM onemap.door_face_day
        WHERE day >= %(nights_first_day)s AND day < %(nights_end_day)s AND late >= %(min_confidence)s
        UNION ALL
        SELECT person_key, building_id, day - 1
        FROM onemap.door_face_day
        WHERE day >= %(nights_first_day)s AND day < %(nights_end_day)s AND early >= %(min_confidence)s
        UNION ALL
        SELECT e.person_key, e.building_id,
               ((e.occurred_at AT TIME ZONE 'Asia/Shanghai') - make_interval(hours => %(night_ends)s))::date
        FROM onemap.door_access_event e
        WHERE ((e.occurred_at > %(until)s::timestamptz - make_interval(days => %(nights_days)s)
                AND e.occurred_at < %(nights_whole_from)s)
               OR (e.occurred_at >= %(nights_whole_to)s AND e.occurred_at <= %(until)s::timestamptz))
          AND e.key_kind = 'id_number' AND e.confidence >= %(min_confidence)s
          AND (extract(hour FROM e.occurred_at AT TIME ZONE 'Asia/Shanghai') >= %(night_starts)s
               OR extract(hour FROM e.occurred_at AT TIME ZONE 'Asia/Shanghai') < %(night_ends)s)
    ) nights
    GROUP BY person_key, building_id
    HAVING count(DISTINCT night) >= %(nights)s
) n
JOIN onemap.building b ON b.id = n.building_id
WHERE NOT EXISTS (
    SELECT 1 FROM onemap.person p
    JOIN onemap.residence r ON r.person_id = p.id
    WHERE p.id_number = n.person_key::bpchar AND r.building_id = n.building_id AND r.valid_to IS NULL
);
