-- Open issues whose sources now agree are closed by fusion itself, saying so.
WITH resolved AS (
    UPDATE onemap.verification_issue i
    SET status = 'dismissed', decided_by = 'onemap fuse', decided_at = now(), values = v.values,
        note = 'the sources agree again'
    FROM fusion_verdict v
    WHERE NOT v.disagrees AND i.status = 'open'
      AND i.entity_kind = v.entity_kind AND i.entity_key = v.entity_key AND i.attribute = v.attribute
    RETURNING 1
)
SELECT count(*) AS resolved FROM resolved;
