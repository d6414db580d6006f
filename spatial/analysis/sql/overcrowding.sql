-- A unit is overcrowded when its floor area per resident is below the threshold.
SELECT
    CASE %(level)s WHEN 'grid' THEN grid_code WHEN 'community' THEN community_code
        WHEN 'street' THEN street_code ELSE building_id::text END AS code,
    count(*)::bigint AS units,
    count(*) FILTER (WHERE persons > 0)::bigint AS occupied_units,
    coalesce(sum(persons), 0)::bigint AS persons,
    count(*) FILTER (WHERE persons > 0 AND area_m2 / persons < %(min_m2_per_person)s)::bigint AS overcrowded_units,
    coalesce(sum(persons) FILTER (WHERE persons > 0 AND area_m2 / persons < %(min_m2_per_person)s), 0)::bigint
        AS persons_overcrowded
FROM unit_load
GROUP BY 1
