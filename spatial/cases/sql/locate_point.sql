-- The grid, community and street of a point inside the district (none outside it).
SELECT g.code AS grid_code, g.parent_code AS community_code, c.parent_code AS street_code
FROM onemap.admin_area g
JOIN onemap.admin_area c ON c.code = g.parent_code
WHERE g.level = 'grid' AND ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY g.code
LIMIT 1
