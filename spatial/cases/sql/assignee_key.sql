-- The grid worker keys of a case's grid that are not revoked: who a case can be assigned to. The actor name is
-- the one a key acts under (api/auth.py), so the assignee on the timeline matches the key's own transitions.
SELECT id, 'key:' || id || ':' || label AS actor
FROM onemap.api_key
WHERE role = 'grid_worker' AND grid_code = %(grid)s AND revoked_at IS NULL
ORDER BY id
