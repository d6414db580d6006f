-- Provenance: for each entity and department, the record fusion used, when it arrived, and which attributes it
-- was the authority for or verified under the rules of this run. Per attribute, the building file reads the
-- source (the authority's record) and the checks (verifiers, minus those named in an open issue) from here.
CREATE UNLOGGED TABLE fusion_role AS
SELECT entity_kind, department,
       coalesce(array_agg(attribute ORDER BY attribute) FILTER (WHERE is_authority), '{}') AS authoritative_for,
       coalesce(array_agg(attribute ORDER BY attribute) FILTER (WHERE NOT is_authority), '{}') AS verifies
FROM fusion_rule_now
GROUP BY entity_kind, department;

WITH upserted AS (
    INSERT INTO onemap.attribute_provenance AS p
        (entity_kind, entity_key, department, source_record_id, received_at, authoritative_for, verifies, fused_at)
    SELECT l.entity_kind, l.entity_key, l.department, l.record_id, l.received_at, r.authoritative_for, r.verifies,
           now()
    FROM fusion_latest l
    JOIN fusion_role r ON r.entity_kind = l.entity_kind AND r.department = l.department
    -- in key order: neighbouring keys share index pages (and, since a from-scratch run writes in this order, heap
    -- pages), so the upsert walks the 15M-row table instead of jumping around it
    ORDER BY l.entity_kind, l.entity_key, l.department
    ON CONFLICT (entity_kind, entity_key, department) DO UPDATE
    SET source_record_id = EXCLUDED.source_record_id, received_at = EXCLUDED.received_at,
        authoritative_for = EXCLUDED.authoritative_for, verifies = EXCLUDED.verifies, fused_at = EXCLUDED.fused_at
    -- a department without a new record (or new rules) keeps its row: no dead tuple, no index churn
    WHERE (p.source_record_id, p.authoritative_for, p.verifies)
          IS DISTINCT FROM (EXCLUDED.source_record_id, EXCLUDED.authoritative_for, EXCLUDED.verifies)
    RETURNING 1
)
SELECT count(*) AS provenance FROM upserted;
