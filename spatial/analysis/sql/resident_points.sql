-- One row per resident at the as-of date, at a point on their building's footprint, ordered by geohash so that
-- consecutive chunks (GeoParquet files, Dask partitions) cover compact areas.
SELECT r.person_id, p.birth_date, p.household_type, ST_PointOnSurface(b.geom) AS geom
FROM resident r
JOIN person_asof p ON p.id = r.person_id
JOIN scoped_building b ON b.id = r.building_id
ORDER BY ST_GeoHash(ST_PointOnSurface(b.geom), 7), r.person_id
