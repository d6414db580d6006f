-- Which of the given attachment ids belong to the case.
SELECT id FROM onemap.case_attachment WHERE case_id = %(id)s AND id = ANY(%(ids)s::bigint[])
