UPDATE onemap.source_record r
SET processed_at = now()
FROM fusion_batch b
WHERE r.id = b.id;
