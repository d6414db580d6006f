(%(scope_grids)s::text[] IS NULL OR c.grid_code = ANY(%(scope_grids)s::text[]))
  AND (%(grid)s::text IS NULL OR c.grid_code = %(grid)s::text)
  AND (%(department)s::text IS NULL OR c.department = %(department)s::text)
  AND (%(states)s::text[] IS NULL OR c.state = ANY(%(states)s::text[]))
  AND (%(category)s::text IS NULL OR c.category = %(category)s::text)
  AND (%(street)s::text IS NULL OR c.street_code = %(street)s::text)
  AND (%(source_kind)s::text IS NULL OR c.source_kind = %(source_kind)s::text)
  AND (%(overdue)s::boolean IS NULL OR c.overdue = %(overdue)s::boolean)
  AND (%(since)s::timestamptz IS NULL OR c.valid_from > %(since)s::timestamptz)
  AND (%(assignee)s::text IS NULL OR %(assignee)s::text = (
      SELECT t.assignee FROM onemap.case_transition t
      WHERE t.case_id = c.id AND t.action = 'assign'
        AND (%(as_of)s::timestamptz IS NULL OR t.at <= %(as_of)s::timestamptz)
      ORDER BY t.at DESC, t.id DESC LIMIT 1))
