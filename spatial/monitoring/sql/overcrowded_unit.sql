-- Overcrowded units: fewer square metres per current resident than the minimum (Shenzhen's rental rules use
-- about 6 m2 per person; below %(min_area)s m2 is a warning, below half of it a serious one).
INSERT INTO monitor_hit
SELECT 'overcrowded_unit', 'unit:' || u.id, u.building_id,
       CASE WHEN u.area_m2 / n.residents < %(min_area)s / 2 THEN 4 ELSE 3 END,
       '群租隐患 overcrowded unit: room ' || u.room_no || ', ' || n.residents || ' residents in '
           || round(u.area_m2::numeric, 1) || ' m2',
       jsonb_build_object('house_unit_id', u.id, 'room_no', u.room_no, 'area_m2', u.area_m2,
                          'residents', n.residents)
FROM (SELECT house_unit_id, count(*) AS residents FROM onemap.residence WHERE valid_to IS NULL
      GROUP BY house_unit_id) n
JOIN onemap.house_unit u ON u.id = n.house_unit_id
WHERE u.area_m2 / n.residents < %(min_area)s;
