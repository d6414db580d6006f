-- One row per (entity, attribute, department) that a rule reads: the value sent and its comparable form.
CREATE UNLOGGED TABLE fusion_claim AS
SELECT l.entity_kind, l.entity_key, r.attribute, l.department, r.is_authority, r.match, r.threshold,
       l.payload ->> r.attribute AS value,
       onemap.fusion_normalise(l.payload ->> r.attribute, r.match) AS comparable
FROM fusion_latest l
JOIN fusion_rule_now r ON r.entity_kind = l.entity_kind AND r.department = l.department
WHERE l.payload ? r.attribute AND jsonb_typeof(l.payload -> r.attribute) <> 'null';

ANALYZE fusion_claim;

-- Every verifying value against the authoritative one, compared once.
CREATE UNLOGGED TABLE fusion_check AS
SELECT a.entity_kind, a.entity_key, a.attribute, a.department AS authority, v.department,
       onemap.fusion_agrees(a.comparable, v.comparable, a.match, a.threshold) AS agrees
FROM fusion_claim a
JOIN fusion_claim v ON v.entity_kind = a.entity_kind AND v.entity_key = a.entity_key
                   AND v.attribute = a.attribute AND NOT v.is_authority
WHERE a.is_authority;

-- The attributes to write an issue for: those that disagree now, and those with an open issue that may have
-- come to agree. Values per source are assembled only for these (few) attributes.
CREATE UNLOGGED TABLE fusion_verdict AS
WITH subject AS (
    SELECT entity_kind, entity_key, attribute, min(authority) AS authority, bool_or(NOT agrees) AS disagrees
    FROM fusion_check
    GROUP BY entity_kind, entity_key, attribute
    HAVING bool_or(NOT agrees)
    UNION ALL
    SELECT c.entity_kind, c.entity_key, c.attribute, min(c.authority), false
    FROM fusion_check c
    JOIN onemap.verification_issue i ON i.status = 'open' AND i.entity_kind = c.entity_kind
                                    AND i.entity_key = c.entity_key AND i.attribute = c.attribute
    GROUP BY c.entity_kind, c.entity_key, c.attribute
    HAVING bool_and(c.agrees)
)
SELECT s.entity_kind, s.entity_key, s.attribute, s.authority, s.disagrees,
       jsonb_object_agg(c.department, CASE WHEN c.is_authority
           THEN jsonb_build_object('value', c.value, 'authoritative', true)
           ELSE jsonb_build_object('value', c.value, 'agrees', k.agrees) END) AS values
FROM subject s
JOIN fusion_claim c ON c.entity_kind = s.entity_kind AND c.entity_key = s.entity_key AND c.attribute = s.attribute
LEFT JOIN fusion_check k ON k.entity_kind = c.entity_kind AND k.entity_key = c.entity_key
                        AND k.attribute = c.attribute AND k.department = c.department
GROUP BY s.entity_kind, s.entity_key, s.attribute, s.authority, s.disagrees;
