-- The case a transition changes, locked for the transaction, with the areas its routing depends on.
SELECT c.id, c.category, c.state, c.department, c.grid_code, c.street_code, g.parent_code AS community_code,
       c.escalation_level, c.due_at, c.overdue, c.returned_count, c.reopened_count
FROM onemap.service_case c
LEFT JOIN onemap.admin_area g ON g.code = c.grid_code
WHERE c.id = %(id)s
FOR UPDATE OF c
