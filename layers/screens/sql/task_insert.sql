INSERT INTO onemap.grid_task (grid_code, kind, subject, note, assigned_by)
VALUES (%(grid)s, %(kind)s, %(subject)s, %(note)s, %(actor)s)
RETURNING id, grid_code, kind, subject, note, status, assigned_by, assigned_at
