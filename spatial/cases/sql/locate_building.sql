-- A building's areas, address and a point on it, for a case reported at a building.
SELECT id AS building_id, address, grid_code, community_code, street_code,
       ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
FROM onemap.building
WHERE code = %(code)s
