-- Cases past their limit are flagged and escalate one level (1 the street, 2 the district); a case already at
-- the district stays flagged there. The escalated state gets its own limit (%(dues)s per category).
SELECT set_config('onemap.actor', 'onemap jobs', true);

WITH late AS (
    SELECT id, state, department, escalation_level, due_at FROM onemap.service_case
    WHERE due_at < now() AND NOT overdue AND state = ANY(%(timed)s::text[])
    ORDER BY id
    FOR UPDATE SKIP LOCKED
), dues AS (
    SELECT key AS category, value::timestamptz AS due FROM jsonb_each_text(%(dues)s::jsonb)
), changed AS (
    UPDATE onemap.service_case c
    SET overdue = (l.escalation_level >= 2),
        state = CASE WHEN l.escalation_level < 2 THEN 'escalated' ELSE c.state END,
        escalation_level = least(l.escalation_level + 1, 2),
        due_at = CASE WHEN l.escalation_level < 2
                      THEN (SELECT d.due FROM dues d WHERE d.category = c.category) ELSE c.due_at END
    FROM late l
    WHERE c.id = l.id
    RETURNING c.id, l.state AS from_state, c.state AS to_state, c.department, l.due_at, l.escalation_level
), timeline AS (
    INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note,
                                        due_at, on_time)
    SELECT id, CASE WHEN escalation_level < 2 THEN 'escalate' ELSE 'overdue' END, from_state, to_state,
           'onemap jobs', 'system', department,
           CASE escalation_level WHEN 0 THEN 'overdue: escalated to the street'
                                 WHEN 1 THEN 'overdue: escalated to the district'
                                 ELSE 'overdue at the district' END,
           due_at, false
    FROM changed
)
SELECT count(*) AS escalated FROM changed
