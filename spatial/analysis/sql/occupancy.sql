-- Residential house units with their residents at the as-of date (empty units count 0). Residents are counted
-- per unit straight from `residence` first: one hash aggregate instead of a join fanned out over every unit.
, unit_residents AS (
    SELECT house_unit_id, count(*)::int AS persons
    FROM onemap.residence
    WHERE valid_from <= %(as_of)s AND (valid_to IS NULL OR valid_to > %(as_of)s)
    GROUP BY house_unit_id
), unit_load AS (
    SELECT u.id AS unit_id, u.building_id, b.grid_code, b.community_code, b.street_code, u.area_m2,
           coalesce(n.persons, 0) AS persons
    FROM unit_asof u
    JOIN scoped_building b ON b.id = u.building_id
    LEFT JOIN unit_residents n ON n.house_unit_id = u.id
    WHERE u.use = 'residential'
)
