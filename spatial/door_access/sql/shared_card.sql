-- One card used at %(card_buildings)s or more buildings within %(card_minutes)s minutes (the period: the last
-- %(unseen_days)s days). Only cards door_card_day saw at that many buildings in the period's days can be one;
-- their swipes are read raw (by the person_key index), bucketed by hour and each swipe also offered to the
-- previous hour's bucket, so the pairs within a window are found by an equi-join instead of comparing every
-- swipe of a card.
CREATE TEMP TABLE door_card_suspects ON COMMIT DROP AS
SELECT card FROM (
    SELECT DISTINCT card, building_id FROM onemap.door_card_day
    WHERE day >= %(unseen_first_day)s::date - 1 AND day <= %(unseen_end_day)s
) c
GROUP BY card
HAVING count(*) >= %(card_buildings)s;

ANALYZE door_card_suspects;

CREATE TEMP TABLE door_cards ON COMMIT DROP AS
SELECT e.person_key, e.building_id, e.occurred_at, date_trunc('hour', e.occurred_at) AS bucket
FROM door_card_suspects s
JOIN onemap.door_access_event e ON e.person_key = s.card
WHERE e.key_kind = 'card'
  AND e.occurred_at > %(until)s::timestamptz - make_interval(days => %(unseen_days)s)
  AND e.occurred_at <= %(until)s::timestamptz;

INSERT INTO monitor_hit
SELECT DISTINCT ON (h.person_key) 'shared_card', 'card:' || h.person_key, h.building_id, 3,
       format('门禁卡多处使用 one card used at %%s buildings within %%s minutes', h.buildings, %(card_minutes)s),
       jsonb_build_object('buildings', h.buildings, 'first_at', h.first_at)
FROM (
    SELECT e1.person_key, e1.building_id, e1.occurred_at AS first_at, count(DISTINCT e2.building_id) AS buildings
    FROM door_cards e1
    JOIN (SELECT person_key, bucket, building_id, occurred_at FROM door_cards
          UNION ALL
          SELECT person_key, bucket - interval '1 hour', building_id, occurred_at FROM door_cards) e2
      ON e2.person_key = e1.person_key AND e2.bucket = e1.bucket
     AND e2.occurred_at >= e1.occurred_at AND e2.occurred_at < e1.occurred_at + make_interval(mins => %(card_minutes)s)
    GROUP BY e1.person_key, e1.building_id, e1.occurred_at
    HAVING count(DISTINCT e2.building_id) >= %(card_buildings)s
) h
ORDER BY h.person_key, h.buildings DESC, h.first_at;
