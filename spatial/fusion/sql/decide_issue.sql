-- A person's decision on an issue: confirmed (the verifying source is right, the authority must correct) or
-- dismissed (the authority stands). Only open issues are decided; within the caller's grid when scoped.
SELECT set_config('onemap.actor', %(actor)s, true);

UPDATE onemap.verification_issue i
SET status = %(status)s, decided_by = %(actor)s, decided_at = now(), note = %(note)s
WHERE i.id = %(id)s AND i.status = 'open'
  AND (%(grid)s::text IS NULL OR i.grid_code = %(grid)s::text)
  AND (%(department)s::text IS NULL OR i.authoritative_department = %(department)s::text)
RETURNING i.id, i.entity_kind, i.attribute, i.status, i.grid_code;
