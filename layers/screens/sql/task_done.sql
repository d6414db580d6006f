-- A grid worker marks a task of their own grid done; nothing when it is not theirs or done already.
UPDATE onemap.grid_task
SET status = 'done', done_by = %(actor)s, done_at = now(), done_note = %(note)s
WHERE id = %(id)s AND grid_code = ANY(%(grids)s::text[]) AND status = 'assigned'
RETURNING id, grid_code, kind, subject, status, done_by, done_at, done_note
