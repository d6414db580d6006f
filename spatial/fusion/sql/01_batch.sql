-- The records of this run: those above the last run's high-water mark and up to this run's (payloads stay
-- in source_record).
CREATE UNLOGGED TABLE fusion_batch AS
SELECT r.id, r.department, r.entity_kind AS source_kind, r.entity_key,
       r.payload ->> 'building_code' AS building_code, false AS rejected
FROM onemap.source_record r
WHERE r.id > %(after)s AND r.id <= %(upto)s;

-- Fresh statistics for every step that joins the batch: an incremental batch is small, and the planner then
-- looks its keys up in the archives' indexes instead of hashing whole tables.
ANALYZE fusion_batch;
