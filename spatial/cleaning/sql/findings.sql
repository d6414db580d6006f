-- Declarations against the base data, for one batch (%(batch)s): the three kinds of finding of issue 7.
SELECT 'declared_in_empty_unit' AS finding, d.row_no, g.code AS building_code, u.room_no,
       'declared living in a unit where no one is registered' AS detail
FROM onemap.declaration d
JOIN onemap.house_unit u ON u.id = d.house_unit_id
JOIN onemap.building g ON g.id = u.building_id
WHERE d.batch = %(batch)s AND d.kind = 'person'
  AND NOT EXISTS (SELECT 1 FROM onemap.residence r WHERE r.house_unit_id = u.id AND r.valid_to IS NULL)
UNION ALL
SELECT 'unit_over_capacity', min(d.row_no), g.code, u.room_no,
       count(*) || ' declared residents in ' || round(u.area_m2::numeric, 1) || ' m2'
FROM onemap.declaration d
JOIN onemap.house_unit u ON u.id = d.house_unit_id
JOIN onemap.building g ON g.id = u.building_id
WHERE d.batch = %(batch)s AND d.kind = 'person'
GROUP BY g.code, u.room_no, u.area_m2
HAVING u.area_m2 / count(*) < %(min_area)s
UNION ALL
SELECT 'business_without_enterprise', d.row_no, g.code, u.room_no,
       'a business declared where no active enterprise is registered'
FROM onemap.declaration d
JOIN onemap.building g ON g.id = d.building_id
LEFT JOIN onemap.house_unit u ON u.id = d.house_unit_id
WHERE d.batch = %(batch)s AND d.kind = 'business'
  AND NOT EXISTS (SELECT 1 FROM onemap.enterprise e
                  WHERE e.status = 'active' AND e.building_id = d.building_id
                    AND (d.house_unit_id IS NULL OR e.house_unit_id IS NULL OR e.house_unit_id = d.house_unit_id)
                    AND (d.credit_code IS NULL OR e.credit_code = d.credit_code))
ORDER BY 1, 2
