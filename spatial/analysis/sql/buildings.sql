SELECT b.id, b.code, b.use, b.floors, b.height_m, b.grid_code, b.community_code, b.street_code, b.geom
FROM scoped_building b
WHERE (%(building_ids)s::bigint[] IS NULL OR b.id = ANY(%(building_ids)s::bigint[]))
  AND (%(uses)s::text[] IS NULL OR b.use = ANY(%(uses)s::text[]))
  AND (%(within)s::text IS NULL OR ST_Intersects(b.geom, ST_GeomFromText(%(within)s, 4326)))
ORDER BY b.id
