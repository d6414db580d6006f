-- One image of a case; the same image twice is stored once (and returns the first id).
WITH added AS (
    INSERT INTO onemap.case_attachment (case_id, media_type, size, sha256, content, uploaded_by)
    VALUES (%(id)s, %(media_type)s, %(size)s, %(sha256)s, %(content)s, %(actor)s)
    ON CONFLICT (case_id, sha256) DO NOTHING
    RETURNING id, media_type, size, sha256
)
SELECT id, media_type, size, sha256 FROM added
UNION ALL
SELECT id, media_type, size, sha256 FROM onemap.case_attachment
WHERE case_id = %(id)s AND sha256 = %(sha256)s AND NOT EXISTS (SELECT 1 FROM added)
