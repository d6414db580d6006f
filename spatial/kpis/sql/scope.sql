-- The grids of a scope (%(level)s, %(code)s) and, for each, the child area it rolls up to (district -> street,
-- street -> community, community -> grid, grid -> itself), with the child's name: figures come per child area.
WITH tree AS (
    SELECT g.code AS grid_code, g.name AS grid_name, c.code AS community_code, c.name AS community_name,
           s.code AS street_code, s.name AS street_name, s.parent_code AS district_code
    FROM onemap.admin_area AS g
    JOIN onemap.admin_area AS c ON c.code = g.parent_code
    JOIN onemap.admin_area AS s ON s.code = c.parent_code
    WHERE g.level = 'grid'
)
SELECT grid_code,
       CASE %(level)s WHEN 'district' THEN street_code WHEN 'street' THEN community_code ELSE grid_code END
           AS area_code,
       CASE %(level)s WHEN 'district' THEN street_name WHEN 'street' THEN community_name ELSE grid_name END
           AS area_name
FROM tree
WHERE CASE %(level)s WHEN 'district' THEN district_code WHEN 'street' THEN street_code
                     WHEN 'community' THEN community_code ELSE grid_code END = %(code)s
ORDER BY area_code, grid_code
