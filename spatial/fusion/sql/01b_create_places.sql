-- A record of a key the archive does not hold creates the entity when its department is the archive's creator
-- (the authority on that kind: police for persons, market supervision for enterprises, housing for buildings
-- and their house units)
-- and the record carries what the archive cannot do without. Records of other departments are left to
-- 02_reject, which opens an "unknown to the authority" issue for them. Buildings and their rooms come first
-- (this file), persons and enterprises after them (01c_create_occupants.sql): a person or an enterprise
-- delivered in the same run as its building is placed in it.
-- Which keys are new is decided here, before anything is inserted: as an anti-join inside an INSERT into the same
-- archive it would be planned for the archive as it was (empty, for a district born from its deliveries) and
-- rescan the rows the statement inserts once per record (minutes for a district's first 250,000 persons).
CREATE UNLOGGED TABLE fusion_new AS
SELECT DISTINCT ON (k.entity_kind, b.entity_key) k.entity_kind, b.entity_key, b.id, r.payload, b.building_code
FROM fusion_batch b
JOIN fusion_source_kind k ON k.source_kind = b.source_kind AND k.entity_kind = b.source_kind
JOIN fusion_creator c ON c.entity_kind = k.entity_kind AND c.department = b.department
JOIN onemap.source_record r ON r.id = b.id
WHERE coalesce(btrim(b.entity_key), '') <> ''
  AND NOT EXISTS (SELECT 1 FROM onemap.fusion_rejection j WHERE j.run_id = %(run_id)s AND j.source_record_id = b.id)
  AND NOT (k.entity_kind = 'building' AND EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = b.entity_key))
  AND NOT (k.entity_kind = 'person'
           AND EXISTS (SELECT 1 FROM onemap.person p WHERE p.id_number = b.entity_key::bpchar))
  AND NOT (k.entity_kind = 'enterprise'
           AND EXISTS (SELECT 1 FROM onemap.enterprise e WHERE e.credit_code = b.entity_key::bpchar))
ORDER BY k.entity_kind, b.entity_key, r.received_at DESC, b.id DESC;

ANALYZE fusion_new;

-- Buildings: the footprint from the record (EPSG:4326), in the grid, community and street holding a point of it.
-- Footprints are parsed into a table of their own and counted (ANALYZE) first: the planner cannot estimate the
-- filters on the payload, takes them for one row, and then parses every footprint again for every grid (16 s
-- instead of 0.3 s for 8,500 buildings).
CREATE UNLOGGED TABLE fusion_footprint AS
SELECT n.entity_key, n.payload, f.geom, ST_PointOnSurface(f.geom) AS point
FROM fusion_new n,
     ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(n.payload -> 'geometry'), 4326)), 3))
         AS f(geom)
WHERE n.entity_kind = 'building' AND jsonb_typeof(n.payload -> 'geometry') = 'object'
  AND n.payload -> 'geometry' ->> 'type' IN ('Polygon', 'MultiPolygon') AND NOT ST_IsEmpty(f.geom);

ANALYZE fusion_footprint;

WITH placed AS (
    SELECT f.*, grid.code AS grid_code, grid.parent_code AS community_code, community.parent_code AS street_code
    FROM fusion_footprint f
    JOIN onemap.admin_area grid ON grid.level = 'grid' AND ST_Intersects(grid.geom, f.point)
    JOIN onemap.admin_area community ON community.code = grid.parent_code
), created AS (
    INSERT INTO onemap.building (code, name, address, use, floors, height_m, built_year, street_code,
                                 community_code, grid_code, geom)
    SELECT DISTINCT ON (p.entity_key) p.entity_key, p.payload ->> 'name',
           coalesce(normalize(regexp_replace(p.payload ->> 'address', '\s+', '', 'g'), NFKC), ''),
           CASE WHEN p.payload ->> 'use' IN ('residential', 'urban_village', 'commercial', 'industrial', 'office',
                                             'public', 'mixed') THEN p.payload ->> 'use' ELSE 'mixed' END,
           coalesce(onemap.try_int(p.payload ->> 'floors'), 1),
           3.0 * coalesce(onemap.try_int(p.payload ->> 'floors'), 1),
           coalesce(onemap.try_int(p.payload ->> 'built_year'), extract(year FROM current_date)::int),
           p.street_code, p.community_code, p.grid_code, p.geom
    FROM placed p
    WHERE coalesce(onemap.try_int(p.payload ->> 'floors'), 1) BETWEEN 1 AND 200
      AND coalesce(onemap.try_int(p.payload ->> 'built_year'), 2000) BETWEEN 1900 AND 2100
    ORDER BY p.entity_key
    RETURNING 1
)
SELECT count(*) AS created_buildings FROM created;

-- House units: in the building their record names, numbered as sent (a building without
-- units (单元) has unit 1). A unit without its area is not created: 02_reject says so. The floor, when not sent,
-- is read from the room number (305: floor 3), as Chinese room numbers are written; a use rooms do not have
-- (a building's "mixed") is taken as residential, the survey's most common.
WITH created AS (
    INSERT INTO onemap.house_unit (building_id, unit_no, floor, room_no, area_m2, use)
    SELECT g.id, coalesce(nullif(btrim(n.payload ->> 'unit_no'), ''), '1'),
           coalesce(onemap.try_int(n.payload ->> 'floor'),
                    onemap.try_int(substring(n.payload ->> 'room_no' FROM '^([0-9]{1,3})[0-9]{2}$')), 1),
           n.payload ->> 'room_no', (n.payload ->> 'area_m2')::double precision,
           CASE WHEN n.payload ->> 'use' IN ('residential', 'commercial', 'industrial', 'office', 'public')
                THEN n.payload ->> 'use' ELSE 'residential' END
    FROM fusion_new n
    JOIN onemap.building g ON g.code = n.payload ->> 'building_code'
    WHERE n.entity_kind = 'house_unit' AND btrim(n.payload ->> 'room_no') <> ''
      AND n.payload ->> 'area_m2' ~ '^[0-9]{1,6}(\.[0-9]+)?$' AND (n.payload ->> 'area_m2')::double precision > 0
    ORDER BY g.id, n.payload ->> 'room_no'
    ON CONFLICT (building_id, unit_no, room_no) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS created_house_units FROM created;
