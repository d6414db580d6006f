-- Persons and enterprises of keys the archive does not hold, from their creators' records (fusion_new, made by
-- 01b_create_places.sql), once the buildings of the same run exist.

-- Persons: sex and birth date from the record, else from the ID number itself (GB 11643: birth date in
-- characters 7-14, an odd sequence number for men).
WITH created AS (
    INSERT INTO onemap.person (id_number, name, sex, birth_date, phone, household_type)
    SELECT n.entity_key, n.payload ->> 'name',
           coalesce(CASE WHEN n.payload ->> 'sex' IN ('M', 'F') THEN n.payload ->> 'sex' END,
                    CASE WHEN mod(substr(n.entity_key, 17, 1)::int, 2) = 1 THEN 'M' ELSE 'F' END),
           coalesce(onemap.try_date(n.payload ->> 'birth_date'), onemap.try_date(substr(n.entity_key, 7, 8))),
           CASE WHEN n.payload ->> 'phone' ~ '^1[3-9][0-9]{9}$' THEN n.payload ->> 'phone' END,
           CASE WHEN n.payload ->> 'household_type' IN ('local', 'migrant') THEN n.payload ->> 'household_type'
                ELSE 'migrant' END
    FROM fusion_new n
    WHERE n.entity_kind = 'person' AND n.entity_key ~ '^[0-9]{17}[0-9X]$' AND btrim(n.payload ->> 'name') <> ''
      AND onemap.try_date(substr(n.entity_key, 7, 8)) IS NOT NULL
      AND (n.building_code IS NULL OR EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = n.building_code))
    RETURNING 1
)
SELECT count(*) AS created_persons FROM created;

-- Enterprises: placed in the building their record names (its code, else its standard address); an individual
-- business is told by its credit code (character 2 is 2 for 个体工商户).
WITH created AS (
    INSERT INTO onemap.enterprise (credit_code, credit_code_check_ok, name, kind, industry, status, registered_on,
                                   building_id, geom)
    SELECT n.entity_key, coalesce((n.payload ->> 'credit_code_check_ok')::boolean, true), n.payload ->> 'name',
           CASE WHEN substr(n.entity_key, 2, 1) = '2' THEN 'individual' ELSE 'company' END,
           coalesce(n.payload ->> 'industry', 'unknown'),
           CASE WHEN n.payload ->> 'status' IN ('active', 'suspended', 'deregistered') THEN n.payload ->> 'status'
                ELSE 'active' END,
           coalesce(onemap.try_date(n.payload ->> 'registered_on'), current_date),
           g.id, ST_PointOnSurface(g.geom)
    FROM fusion_new n
    -- two index lookups, not one OR-ed condition (which scans every building for each enterprise)
    JOIN LATERAL (
        SELECT g.id, g.geom FROM onemap.building g WHERE g.code = n.payload ->> 'building_code'
        UNION ALL
        (SELECT g.id, g.geom FROM onemap.building g
         WHERE n.payload ->> 'building_code' IS NULL
           AND g.address = normalize(regexp_replace(n.payload ->> 'address', '\s+', '', 'g'), NFKC)
         ORDER BY g.id LIMIT 1)
        LIMIT 1
    ) g ON true
    WHERE n.entity_kind = 'enterprise' AND length(n.entity_key) = 18 AND btrim(n.payload ->> 'name') <> ''
    RETURNING 1
)
SELECT count(*) AS created_enterprises FROM created;
