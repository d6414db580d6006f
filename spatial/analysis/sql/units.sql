SELECT unit_id, building_id, grid_code, community_code, street_code, area_m2, persons,
       CASE WHEN persons > 0 THEN area_m2 / persons END AS m2_per_person,
       persons > 0 AND area_m2 / persons < %(min_m2_per_person)s AS overcrowded
FROM unit_load
ORDER BY unit_id
