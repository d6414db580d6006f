-- Citizen declarations imported by each instant and matched to a building of the area whose declared person
-- or business is not (yet) in the archive there: a resident without a current residence in the declared building,
-- a business without an enterprise file in it. Per kind (person, business).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, d.kind AS key, count(*)::float8 AS value
FROM t
JOIN onemap.declaration AS d ON d.imported_at <= t.at
JOIN onemap.building AS b ON b.id = d.building_id
JOIN scope AS s ON s.grid_code = b.grid_code
WHERE CASE d.kind
    WHEN 'person' THEN NOT EXISTS (
        SELECT 1 FROM onemap.person AS p JOIN onemap.residence AS r ON r.person_id = p.id
        WHERE p.id_number = d.id_number AND r.building_id = d.building_id
          AND r.valid_from <= t.at::date AND (r.valid_to IS NULL OR r.valid_to > t.at::date))
    ELSE NOT EXISTS (
        SELECT 1 FROM onemap.enterprise AS e
        WHERE e.credit_code = d.credit_code AND e.building_id = d.building_id)
    END
GROUP BY 1, 2, 3
