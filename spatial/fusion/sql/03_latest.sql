-- The archive entities this run touches, and each department's latest usable record of each of them (a
-- verifying record that arrives alone is compared with the authority's earlier record).
CREATE UNLOGGED TABLE fusion_touched AS
SELECT DISTINCT k.entity_kind, b.entity_key
FROM fusion_batch b
JOIN fusion_source_kind k ON k.source_kind = b.source_kind
WHERE NOT b.rejected;

-- Fresh statistics, so the planner looks the touched entities up in source_record_latest instead of hashing
-- every source record (an incremental run touches ~1% of them).
ANALYZE fusion_touched;

CREATE UNLOGGED TABLE fusion_latest AS
SELECT DISTINCT ON (t.entity_kind, t.entity_key, r.department)
       t.entity_kind, t.entity_key, r.department, r.id AS record_id, r.received_at, r.payload
FROM fusion_touched t
JOIN fusion_source_kind k ON k.entity_kind = t.entity_kind
JOIN onemap.source_record r ON r.entity_kind = k.source_kind AND r.entity_key = t.entity_key
WHERE NOT EXISTS (SELECT 1 FROM onemap.fusion_rejection j WHERE j.source_record_id = r.id)
ORDER BY t.entity_kind, t.entity_key, r.department, r.received_at DESC, r.id DESC;

ANALYZE fusion_latest;
