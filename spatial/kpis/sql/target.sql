-- One admin area (the district when %(code)s is NULL) with its parent and bounds, for a scope's heading and view.
SELECT a.code, a.name, a.level, a.parent_code, p.name AS parent_name,
       ST_XMin(a.geom) AS west, ST_YMin(a.geom) AS south, ST_XMax(a.geom) AS east, ST_YMax(a.geom) AS north
FROM onemap.admin_area AS a
LEFT JOIN onemap.admin_area AS p ON p.code = a.parent_code
WHERE a.code = %(code)s OR (%(code)s::text IS NULL AND a.level = 'district')
ORDER BY a.code
LIMIT 1
