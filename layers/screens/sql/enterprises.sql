-- Enterprises and individual businesses registered in the buildings of a workspace's grids (business data,
-- no personal fields).
SELECT e.credit_code, e.name, e.kind, e.industry, e.status, e.registered_on, e.employees, b.code AS building_code,
       b.address, b.grid_code, count(*) OVER () AS matched
FROM onemap.enterprise AS e
JOIN onemap.building AS b ON b.id = e.building_id
WHERE b.grid_code = ANY(%(grids)s::text[])
ORDER BY b.code, e.credit_code
LIMIT %(limit)s
