-- Records fusion cannot use, with the first reason found; they are marked processed and reported, never applied.
INSERT INTO onemap.fusion_rejection (run_id, source_record_id, reason)
SELECT DISTINCT ON (id) %(run_id)s, id, reason
FROM (
    SELECT b.id, 1 AS priority,
           'no fusion rule reads ' || b.department || ' ' || b.source_kind || ' records' AS reason
    FROM fusion_batch b
    WHERE NOT EXISTS (SELECT 1 FROM fusion_source_kind k
                      JOIN fusion_rule_now r ON r.entity_kind = k.entity_kind AND r.department = b.department
                      WHERE k.source_kind = b.source_kind)
    UNION ALL
    SELECT b.id, 2, 'empty entity key' FROM fusion_batch b WHERE coalesce(btrim(b.entity_key), '') = ''
    UNION ALL
    SELECT b.id, 3, 'references nothing: no person with ID number ' || b.entity_key || ' in the archive'
    FROM fusion_batch b
    WHERE b.source_kind IN ('person', 'residence')
      AND NOT EXISTS (SELECT 1 FROM onemap.person p WHERE p.id_number = b.entity_key::bpchar)
    UNION ALL
    SELECT b.id, 3, 'references nothing: no enterprise with credit code ' || b.entity_key || ' in the archive'
    FROM fusion_batch b
    WHERE b.source_kind = 'enterprise'
      AND NOT EXISTS (SELECT 1 FROM onemap.enterprise e WHERE e.credit_code = b.entity_key::bpchar)
    UNION ALL
    SELECT b.id, 3, 'references nothing: no building with code ' || b.entity_key
    FROM fusion_batch b
    WHERE b.source_kind = 'building'
      AND NOT EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = b.entity_key)
    UNION ALL
    SELECT b.id, 4, 'references nothing: no building with code ' || b.building_code || ' (building_code)'
    FROM fusion_batch b
    WHERE b.building_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = b.building_code)
) AS problem
ORDER BY id, priority;

UPDATE fusion_batch b SET rejected = true
FROM onemap.fusion_rejection j
WHERE j.run_id = %(run_id)s AND j.source_record_id = b.id;
