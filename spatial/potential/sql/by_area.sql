-- Economic potential summed per street or community (%(level)s), with the area's outline as GeoJSON.
SELECT a.code, a.name, a.level,
       count(p.id)::integer AS buildings,
       coalesce(sum(p.business_m2), 0) AS business_m2,
       coalesce(sum(p.enterprises), 0)::integer AS enterprises,
       count(p.id) FILTER (WHERE p.enterprises = 0)::integer AS buildings_without_enterprise,
       coalesce(sum(p.potential_m2), 0) AS potential_m2,
       CASE WHEN coalesce(sum(p.business_m2), 0) > 0
            THEN round((sum(p.potential_m2) / sum(p.business_m2))::numeric, 3)::double precision END
           AS potential_share,
       ST_AsGeoJSON(a.geom, 6)::jsonb AS geometry
FROM onemap.admin_area a
LEFT JOIN onemap.economic_potential p
       ON (CASE WHEN %(level)s = 'street' THEN p.street_code ELSE p.community_code END) = a.code
WHERE a.level = %(level)s
GROUP BY a.code, a.name, a.level, a.geom
ORDER BY potential_m2 DESC, a.code
