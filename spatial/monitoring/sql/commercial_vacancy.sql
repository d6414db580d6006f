-- Commercial vacancy: buildings with at least %(min_space)s m2 of commercial or office units and no active
-- enterprise registered in them.
INSERT INTO monitor_hit
SELECT 'commercial_vacancy', 'building:' || g.code, g.id, 1,
       '商业空置 commercial space without any active business: ' || round(s.space::numeric) || ' m2',
       jsonb_build_object('commercial_m2', round(s.space::numeric, 1))
FROM (SELECT building_id, sum(area_m2) AS space FROM onemap.house_unit
      WHERE use IN ('commercial', 'office') GROUP BY building_id) s
JOIN onemap.building g ON g.id = s.building_id
WHERE s.space >= %(min_space)s
  AND NOT EXISTS (SELECT 1 FROM onemap.enterprise e WHERE e.building_id = g.id AND e.status = 'active');
