-- Every versioned table as of the end of a day: current rows that had started by then, plus history rows that were
-- valid then (valid_from < as_of_end <= valid_to). Residences are date periods: valid_from <= as_of < valid_to.
-- NOT MATERIALIZED: each CTE is inlined where used, so the planner sees through it (row estimates, indexes);
-- unreferenced ones cost nothing.
WITH building_asof AS NOT MATERIALIZED (
    SELECT id, code, use, floors, height_m, grid_code, community_code, street_code, geom
    FROM onemap.building WHERE valid_from < %(as_of_end)s
    UNION ALL
    SELECT id, code, use, floors, height_m, grid_code, community_code, street_code, geom
    FROM onemap.building_history WHERE valid_from < %(as_of_end)s AND valid_to >= %(as_of_end)s
), unit_asof AS NOT MATERIALIZED (
    SELECT id, building_id, use, area_m2 FROM onemap.house_unit WHERE valid_from < %(as_of_end)s
    UNION ALL
    SELECT id, building_id, use, area_m2 FROM onemap.house_unit_history
    WHERE valid_from < %(as_of_end)s AND valid_to >= %(as_of_end)s
), person_asof AS NOT MATERIALIZED (
    SELECT id, id_number, name, sex, birth_date, phone, household_type
    FROM onemap.person WHERE valid_from < %(as_of_end)s
    UNION ALL
    SELECT id, id_number, name, sex, birth_date, phone, household_type
    FROM onemap.person_history WHERE valid_from < %(as_of_end)s AND valid_to >= %(as_of_end)s
), enterprise_asof AS NOT MATERIALIZED (
    SELECT id, kind, industry, status, employees, building_id, geom
    FROM onemap.enterprise WHERE valid_from < %(as_of_end)s
    UNION ALL
    SELECT id, kind, industry, status, employees, building_id, geom
    FROM onemap.enterprise_history WHERE valid_from < %(as_of_end)s AND valid_to >= %(as_of_end)s
), area_asof AS NOT MATERIALIZED (
    SELECT code, name, level, parent_code, geom FROM onemap.admin_area WHERE valid_from < %(as_of_end)s
    UNION ALL
    SELECT code, name, level, parent_code, geom FROM onemap.admin_area_history
    WHERE valid_from < %(as_of_end)s AND valid_to >= %(as_of_end)s
), scoped_building AS NOT MATERIALIZED (
    -- the viewer's row filter: a grid worker sees the buildings of their grid only
    SELECT * FROM building_asof WHERE %(scope_grid)s::text IS NULL OR grid_code = %(scope_grid)s
), resident AS NOT MATERIALIZED (
    -- straight to the building the residence names (the unit's, by its foreign key): 170k buildings to join
    -- instead of 2.9M units
    SELECT r.person_id, r.house_unit_id, r.building_id, b.grid_code, b.community_code, b.street_code
    FROM onemap.residence r
    JOIN scoped_building b ON b.id = r.building_id
    WHERE r.valid_from <= %(as_of)s AND (r.valid_to IS NULL OR r.valid_to > %(as_of)s)
)
