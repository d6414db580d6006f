-- Residents per area (grid, community, street or building) with age bands at the as-of date: children are
-- born after the day 15 years earlier, the elderly on or before the day 60 years earlier.
-- Counted per building first, straight from residence x person (5M rows, in parallel), then rolled up to the
-- level: MATERIALIZED because the planner cannot see through the as-of unions that building ids are unique, and
-- otherwise hashes the 5M residents to probe them with 170k buildings.
, building_residents AS MATERIALIZED (
    SELECT r.building_id,
        count(*) AS persons,
        count(*) FILTER (WHERE p.birth_date > %(child_born_after)s) AS children_0_14,
        count(*) FILTER (WHERE p.birth_date <= %(child_born_after)s AND p.birth_date > %(elderly_born_by)s)
            AS working_15_59,
        count(*) FILTER (WHERE p.birth_date <= %(elderly_born_by)s) AS elderly_60_plus,
        count(*) FILTER (WHERE p.household_type = 'migrant') AS migrants,
        sum(%(as_of)s::date - p.birth_date) AS age_days
    FROM onemap.residence r
    JOIN person_asof p ON p.id = r.person_id
    WHERE r.valid_from <= %(as_of)s AND (r.valid_to IS NULL OR r.valid_to > %(as_of)s)
    GROUP BY r.building_id
)
SELECT
    CASE %(level)s WHEN 'grid' THEN b.grid_code WHEN 'community' THEN b.community_code
        WHEN 'street' THEN b.street_code ELSE b.id::text END AS code,
    sum(x.persons)::bigint AS persons,
    sum(x.children_0_14)::bigint AS children_0_14,
    sum(x.working_15_59)::bigint AS working_15_59,
    sum(x.elderly_60_plus)::bigint AS elderly_60_plus,
    sum(x.migrants)::bigint AS migrants,
    (sum(x.age_days) / sum(x.persons) / 365.2425)::float8 AS mean_age
FROM building_residents x
JOIN scoped_building b ON b.id = x.building_id
GROUP BY 1
