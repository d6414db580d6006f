-- An assigned case becomes a task of its grid, so the grid's worker sees it in the community's task list and
-- marks it done there.
INSERT INTO onemap.grid_task (grid_code, kind, subject, note, assigned_by)
VALUES (%(grid)s, 'case', %(id)s::text, coalesce(%(note)s, ''), %(actor)s)
RETURNING id, grid_code, kind, subject, note, status, assigned_by, assigned_at
