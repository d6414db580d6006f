-- Residents per area (grid, community, street or building) with age bands at the as-of date: children are
-- born after the day 15 years earlier, the elderly on or before the day 60 years earlier.
SELECT
    CASE %(level)s WHEN 'grid' THEN r.grid_code WHEN 'community' THEN r.community_code
        WHEN 'street' THEN r.street_code ELSE r.building_id::text END AS code,
    count(*)::bigint AS persons,
    count(*) FILTER (WHERE p.birth_date > %(child_born_after)s)::bigint AS children_0_14,
    count(*) FILTER (WHERE p.birth_date <= %(child_born_after)s AND p.birth_date > %(elderly_born_by)s)::bigint
        AS working_15_59,
    count(*) FILTER (WHERE p.birth_date <= %(elderly_born_by)s)::bigint AS elderly_60_plus,
    count(*) FILTER (WHERE p.household_type = 'migrant')::bigint AS migrants,
    (avg(%(as_of)s::date - p.birth_date) / 365.2425)::float8 AS mean_age
FROM resident r
JOIN person_asof p ON p.id = r.person_id
GROUP BY 1
