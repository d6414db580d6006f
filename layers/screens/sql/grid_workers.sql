-- The grid worker keys of the community's grids that are not revoked: whom the workspace may give a case to
-- (the case's assign action checks the same, for the case's own grid).
SELECT id, label, grid_code
FROM onemap.api_key
WHERE role = 'grid_worker' AND grid_code = ANY(%(grids)s) AND revoked_at IS NULL
ORDER BY grid_code, id
