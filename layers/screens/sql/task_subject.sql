-- Whether a task's subject exists in its grid: a building code (check) or an event id (warning or case).
SELECT CASE %(kind)s
    WHEN 'check' THEN EXISTS (SELECT 1 FROM onemap.building WHERE code = %(subject)s AND grid_code = %(grid)s)
    ELSE EXISTS (SELECT 1 FROM onemap.event WHERE id::text = %(subject)s AND grid_code = %(grid)s)
END AS found
