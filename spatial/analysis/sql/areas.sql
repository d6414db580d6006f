-- Admin areas of one level; a grid worker gets their grid and the community and street containing it.
SELECT a.code, a.name, a.level, a.parent_code, a.geom
FROM area_asof a
WHERE a.level = %(level)s
  AND (%(scope_grid)s::text IS NULL OR a.code IN (
        SELECT g.code FROM onemap.admin_area g WHERE g.code = %(scope_grid)s
        UNION SELECT g.parent_code FROM onemap.admin_area g WHERE g.code = %(scope_grid)s
        UNION SELECT c.parent_code FROM onemap.admin_area g JOIN onemap.admin_area c ON c.code = g.parent_code
              WHERE g.code = %(scope_grid)s))
ORDER BY a.code
