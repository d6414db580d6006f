SELECT id, media_type, content FROM onemap.case_attachment WHERE case_id = %(case_id)s AND id = %(id)s
