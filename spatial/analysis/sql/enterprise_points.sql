SELECT e.id, e.kind, e.industry, e.employees, e.building_id, b.grid_code, e.geom
FROM enterprise_asof e
JOIN scoped_building b ON b.id = e.building_id
WHERE e.status = 'active'
ORDER BY e.id
