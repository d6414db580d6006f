-- House units in each area at each instant: residential ones, occupied ones (a current residence) and vacant
-- ones (no resident and no enterprise registered in the unit).
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT t.at, (t.at AT TIME ZONE 'Asia/Shanghai')::date AS day FROM unnest(%(instants)s::timestamptz[]) AS t(at)
), units AS (
    SELECT t.at, s.area_code, u.use,
           EXISTS (SELECT 1 FROM onemap.residence AS r WHERE r.house_unit_id = u.id
                   AND r.valid_from <= t.day AND (r.valid_to IS NULL OR r.valid_to > t.day)) AS occupied,
           EXISTS (SELECT 1 FROM onemap.enterprise AS e WHERE e.house_unit_id = u.id
                   AND e.status = 'active') AS business
    FROM t
    JOIN onemap.house_unit AS u ON u.valid_from <= t.at
    JOIN onemap.building AS b ON b.id = u.building_id
    JOIN scope AS s ON s.grid_code = b.grid_code
)
SELECT at, area_code, 'units' AS key, count(*)::float8 AS value FROM units GROUP BY 1, 2
UNION ALL
SELECT at, area_code, 'residential', count(*) FILTER (WHERE use = 'residential')::float8 FROM units GROUP BY 1, 2
UNION ALL
SELECT at, area_code, 'occupied', count(*) FILTER (WHERE occupied)::float8 FROM units GROUP BY 1, 2
UNION ALL
SELECT at, area_code, 'vacant', count(*) FILTER (WHERE NOT occupied AND NOT business)::float8 FROM units GROUP BY 1, 2
