-- An API key's row by its SHA-256 (%(hash)s), with the grids a scoped key covers, looked up on the caller's
-- connection: a grid worker's grid, or every grid of an operator's community (grid -> community) or street
-- (grid -> community -> street).
SELECT k.id, k.label, k.role, k.department, k.grid_code, k.area_code, k.revoked_at,
       CASE WHEN k.grid_code IS NOT NULL THEN ARRAY[k.grid_code]
            WHEN k.area_code IS NOT NULL THEN ARRAY(
                SELECT g.code FROM onemap.admin_area AS g
                LEFT JOIN onemap.admin_area AS c ON c.code = g.parent_code
                WHERE g.level = 'grid' AND (g.parent_code = k.area_code OR c.parent_code = k.area_code)
                ORDER BY g.code)
            ELSE ARRAY[]::text[] END AS grids
FROM onemap.api_key AS k
WHERE k.key_hash = %(hash)s
