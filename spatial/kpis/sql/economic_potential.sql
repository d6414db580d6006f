-- Economic potential (经济挖潜) in each area: business floor space, the space beyond what the active
-- enterprises registered there use (view onemap.economic_potential), and buildings with such space. The view is
-- current: every instant gets today's figure.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
), per_area AS (
    SELECT s.area_code, sum(p.business_m2) AS business_m2, sum(p.potential_m2) AS potential_m2,
           count(*) FILTER (WHERE p.potential_m2 > 0) AS buildings
    FROM onemap.economic_potential AS p JOIN scope AS s ON s.grid_code = p.grid_code
    GROUP BY 1
)
SELECT t.at, a.area_code, k.key, k.value
FROM t CROSS JOIN per_area AS a
CROSS JOIN LATERAL (VALUES ('business_m2', a.business_m2::float8), ('potential_m2', a.potential_m2::float8),
                           ('buildings', a.buildings::float8)) AS k(key, value)
