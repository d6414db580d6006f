-- Provenance per attribute for a building's file: the building itself, its enterprises and current residents.
-- For each attribute: the authoritative department's record, when it arrived and was fused, and for each
-- verifying department whether it agrees (false while an open issue names it as disagreeing).
WITH subject AS (
    SELECT 'building' AS entity_kind, g.code AS entity_key FROM onemap.building g WHERE g.code = %(code)s
    UNION ALL
    SELECT 'enterprise', e.credit_code
    FROM onemap.building g JOIN onemap.enterprise e ON e.building_id = g.id
    WHERE g.code = %(code)s
    UNION ALL
    SELECT DISTINCT 'person', s.id_number
    FROM onemap.building g
    JOIN onemap.house_unit u ON u.building_id = g.id
    JOIN onemap.residence r ON r.house_unit_id = u.id AND r.valid_to IS NULL
    JOIN onemap.person s ON s.id = r.person_id
    WHERE g.code = %(code)s
)
SELECT p.entity_kind, p.entity_key, a.attribute, p.department AS source, p.source_record_id AS record,
       p.received_at, p.fused_at,
       (SELECT coalesce(jsonb_object_agg(v.department, NOT coalesce(
                    i.status = 'open' AND (i.values -> v.department ->> 'agrees')::boolean IS FALSE, false)),
                '{}'::jsonb)
        FROM onemap.attribute_provenance v
        LEFT JOIN onemap.verification_issue i
               ON i.entity_kind = v.entity_kind AND i.entity_key = v.entity_key AND i.attribute = a.attribute
        WHERE v.entity_kind = p.entity_kind AND v.entity_key = p.entity_key
          AND a.attribute = ANY(v.verifies)) AS checks
FROM subject s
JOIN onemap.attribute_provenance p ON p.entity_kind = s.entity_kind AND p.entity_key = s.entity_key
CROSS JOIN LATERAL unnest(p.authoritative_for) AS a(attribute)
ORDER BY p.entity_kind, p.entity_key, a.attribute
