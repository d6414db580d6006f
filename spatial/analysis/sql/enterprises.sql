-- Active enterprises per area at the as-of date, with their employees.
SELECT
    CASE %(level)s WHEN 'grid' THEN b.grid_code WHEN 'community' THEN b.community_code
        WHEN 'street' THEN b.street_code ELSE b.id::text END AS code,
    count(*)::bigint AS enterprises,
    count(*) FILTER (WHERE e.kind = 'company')::bigint AS companies,
    count(*) FILTER (WHERE e.kind = 'individual')::bigint AS individual_businesses,
    coalesce(sum(e.employees), 0)::bigint AS employees
FROM enterprise_asof e
JOIN scoped_building b ON b.id = e.building_id
WHERE e.status = 'active'
GROUP BY 1
