-- Economic potential (经济挖潜): business floor space, the space beyond what the active enterprises registered
-- there use (view onemap.economic_potential), and buildings with such space. The view is current: its figures
-- hold at every instant.
SELECT p.grid_code, k.key, '-infinity'::timestamptz AS starts, NULL::timestamptz AS ends, k.weight
FROM onemap.economic_potential AS p
CROSS JOIN LATERAL (VALUES ('business_m2', p.business_m2), ('potential_m2', p.potential_m2),
                           ('buildings', (p.potential_m2 > 0)::int::float8)) AS k(key, weight)
WHERE p.grid_code = ANY(%(span_grids)s::text[])
