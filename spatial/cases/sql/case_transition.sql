-- Apply one transition and write it to the timeline; the history trigger keeps the previous version.
SELECT set_config('onemap.actor', %(actor)s, true);

UPDATE onemap.service_case
SET state = %(to_state)s, department = %(department)s, due_at = %(due_at)s, overdue = %(overdue)s,
    escalation_level = %(escalation_level)s, returned_count = %(returned_count)s,
    reopened_count = %(reopened_count)s
WHERE id = %(id)s;

INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note,
                                    attachments, due_at, on_time, assignee)
VALUES (%(id)s, %(action)s, %(from_state)s, %(to_state)s, %(actor)s, %(role)s, %(acting_department)s, %(note)s,
        %(attachments)s, %(old_due_at)s, %(on_time)s, %(assignee)s)
RETURNING id, at;
