-- Saved one-map modes the caller may read (the rule is layers.saved_maps.may_read; the SQL narrows first):
-- %(admin)s, the owner %(actor)s, a role in shared_roles, a department in shared_departments.
SELECT id, title, description, owner, owner_role, owner_department, definition, shared_roles, shared_departments,
       created_at
FROM onemap.saved_map
WHERE %(admin)s OR owner = %(actor)s OR shared_roles ? %(role)s
   OR (%(role)s = 'department_editor' AND shared_departments ? %(department)s::text)
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s
