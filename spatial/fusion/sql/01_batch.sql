-- The records of this run: every source record not yet processed (payloads stay in source_record).
CREATE TEMP TABLE fusion_batch ON COMMIT DROP AS
SELECT r.id, r.department, r.entity_kind AS source_kind, r.entity_key,
       r.payload ->> 'building_code' AS building_code, false AS rejected
FROM onemap.source_record r
WHERE r.processed_at IS NULL;
