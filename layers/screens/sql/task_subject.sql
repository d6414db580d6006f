-- Whether a task's subject exists in its grid: a building code (check), an open case's id (case) or an event
-- id (warning).
SELECT CASE %(kind)s
    WHEN 'check' THEN EXISTS (SELECT 1 FROM onemap.building WHERE code = %(subject)s AND grid_code = %(grid)s)
    WHEN 'case' THEN EXISTS (SELECT 1 FROM onemap.service_case
                             WHERE id::text = %(subject)s AND grid_code = %(grid)s AND state <> 'closed')
    ELSE EXISTS (SELECT 1 FROM onemap.event WHERE id::text = %(subject)s AND grid_code = %(grid)s)
END AS found
