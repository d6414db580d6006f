-- Buildings where people are reported living (grid survey, declarations) but which have no house units on file.
INSERT INTO monitor_hit
SELECT 'residents_without_units', 'building:' || g.code, g.id, 3,
       '有人无房 residents reported but no house units on file: ' || count(*) || ' people',
       jsonb_build_object('reported_residents', count(*))
FROM (
    SELECT DISTINCT ON (s.entity_key) s.payload ->> 'building_code' AS building_code
    FROM onemap.source_record s
    WHERE s.department = 'grid' AND s.entity_kind = 'residence' AND s.payload ? 'building_code'
    ORDER BY s.entity_key, s.received_at DESC, s.id DESC
) reported
JOIN onemap.building g ON g.code = reported.building_code
WHERE NOT EXISTS (SELECT 1 FROM onemap.house_unit u WHERE u.building_id = g.id)
GROUP BY g.id, g.code
UNION ALL
SELECT 'residents_without_units', 'building:' || g.code, g.id, 3,
       '有人无房 residents declared but no house units on file: ' || count(*) || ' people',
       jsonb_build_object('declared_residents', count(*))
FROM onemap.declaration d
JOIN onemap.building g ON g.id = d.building_id
WHERE d.kind = 'person' AND NOT EXISTS (SELECT 1 FROM onemap.house_unit u WHERE u.building_id = g.id)
GROUP BY g.id, g.code;
