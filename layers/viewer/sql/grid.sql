SELECT g.code, g.name, c.name AS community,
       ST_XMin(g.geom) AS west, ST_YMin(g.geom) AS south, ST_XMax(g.geom) AS east, ST_YMax(g.geom) AS north,
       (SELECT count(*) FROM onemap.building b WHERE b.grid_code = g.code) AS buildings,
       (SELECT count(*) FROM onemap.event e WHERE e.grid_code = g.code AND e.status = 'open') AS open_events,
       (SELECT count(*) FROM onemap.verification_issue v
         WHERE v.grid_code = g.code AND v.status = 'open') AS open_issues
FROM onemap.admin_area g LEFT JOIN onemap.admin_area c ON c.code = g.parent_code
WHERE g.code = %(code)s AND g.level = 'grid'
