-- Acknowledge or close one warning within the caller's grid; the note and the handler are kept with it.
SELECT set_config('onemap.actor', %(actor)s, true);

UPDATE onemap.event e SET status = %(status)s
WHERE e.id = %(id)s AND (%(grid)s::text IS NULL OR e.grid_code = %(grid)s::text) AND e.status <> 'closed'
RETURNING e.id, e.kind, e.status, e.grid_code;

INSERT INTO onemap.warning AS w (event_id, rule, subject_key, note, handled_by, updated_at)
SELECT e.id, 'event:' || e.kind, 'event:' || e.id, %(note)s, %(actor)s, now()
FROM onemap.event e WHERE e.id = %(id)s
ON CONFLICT (event_id) DO UPDATE
SET note = EXCLUDED.note, handled_by = EXCLUDED.handled_by, updated_at = EXCLUDED.updated_at;
