-- A case's timeline: every transition in order, with who, the note, the attachments and (assign) the assignee.
SELECT id, action, from_state, to_state, actor, role, department, note, attachments, due_at, on_time, assignee, at
FROM onemap.case_transition
WHERE case_id = %(id)s
ORDER BY at, id
