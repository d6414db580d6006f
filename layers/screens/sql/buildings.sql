-- The buildings of a workspace's grids (%(grids)s) with their files' counts: house units, current residents,
-- active enterprises, open warnings. %(limit)s rows (NULL: all, for the download), with the number matched.
SELECT b.code, b.name, b.address, b.use, b.floors, b.built_year, b.grid_code,
       (SELECT count(*) FROM onemap.house_unit AS u WHERE u.building_id = b.id) AS units,
       (SELECT count(*) FROM onemap.residence AS r WHERE r.building_id = b.id
          AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to > current_date)) AS residents,
       (SELECT count(*) FROM onemap.enterprise AS e WHERE e.building_id = b.id AND e.status = 'active')
           AS enterprises,
       (SELECT count(*) FROM onemap.event AS v WHERE v.building_id = b.id AND v.status <> 'closed') AS open_events,
       count(*) OVER () AS matched
FROM onemap.building AS b
WHERE b.grid_code = ANY(%(grids)s::text[])
ORDER BY b.code
LIMIT %(limit)s
