-- Registered (户籍, local household) and actual (实有, everyone living there) population: each residence counts
-- in its building's grid on the Beijing days from valid_from up to valid_to (a residence is dated by day).
SELECT b.grid_code, k.key, r.valid_from::timestamp AT TIME ZONE 'Asia/Shanghai' AS starts,
       r.valid_to::timestamp AT TIME ZONE 'Asia/Shanghai' AS ends, 1.0::float8 AS weight
FROM onemap.building AS b
JOIN onemap.residence AS r ON r.building_id = b.id
JOIN onemap.person AS p ON p.id = r.person_id
CROSS JOIN LATERAL (
    SELECT 'actual' AS key
    UNION ALL
    SELECT 'registered' WHERE p.household_type = 'local'
) AS k
WHERE b.grid_code = ANY(%(span_grids)s::text[])
