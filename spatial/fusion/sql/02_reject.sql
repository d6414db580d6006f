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
                    || ' (unknown to the authority)'
    FROM fusion_batch b
    WHERE b.source_kind IN ('person', 'residence')
      AND NOT EXISTS (SELECT 1 FROM onemap.person p WHERE p.id_number = b.entity_key::bpchar)
    UNION ALL
    SELECT b.id, 3, 'references nothing: no enterprise with credit code ' || b.entity_key || ' in the archive'
                    || ' (unknown to the authority)'
    FROM fusion_batch b
    WHERE b.source_kind = 'enterprise'
      AND NOT EXISTS (SELECT 1 FROM onemap.enterprise e WHERE e.credit_code = b.entity_key::bpchar)
    UNION ALL
    SELECT b.id, 3, 'references nothing: no building with code ' || b.entity_key || ' (unknown to the authority)'
    FROM fusion_batch b
    WHERE b.source_kind = 'building'
      AND NOT EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = b.entity_key)
    UNION ALL
    SELECT b.id, 3, 'references nothing: no house unit ' || b.entity_key || ' in the archive'
                    || ' (a new one needs its building in the archive and its area_m2)'
    FROM fusion_batch b
    WHERE b.source_kind = 'house_unit'
      AND NOT EXISTS (SELECT 1 FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id
                      WHERE g.code = split_part(b.entity_key, '/', 1)
                        AND u.unit_no = split_part(b.entity_key, '/', 2)
                        AND u.room_no = substring(b.entity_key FROM '^[^/]*/[^/]*/(.*)$'))
    UNION ALL
    SELECT b.id, 4, 'references nothing: no building with code ' || b.building_code || ' (building_code)'
    FROM fusion_batch b
    WHERE b.building_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM onemap.building g WHERE g.code = b.building_code)
) AS problem
-- records already refused by resolution keep the reason they got there
WHERE NOT EXISTS (SELECT 1 FROM onemap.fusion_rejection j WHERE j.run_id = %(run_id)s AND j.source_record_id = problem.id)
ORDER BY id, priority;

UPDATE fusion_batch b SET rejected = true
FROM onemap.fusion_rejection j
WHERE j.run_id = %(run_id)s AND j.source_record_id = b.id;

-- A key the archive does not hold, sent by a department that is not the archive's creator: the authority does not
-- know the entity. One issue per entity names every department that sent it.
WITH unknown AS (
    SELECT k.entity_kind, b.entity_key, c.department AS authority,
           jsonb_object_agg(b.department, jsonb_build_object('record', b.id, 'agrees', false,
                                                              'value', 'unknown to the authority')) AS values,
           min(g.id) AS building_id, min(g.grid_code) AS grid_code
    FROM fusion_batch b
    JOIN fusion_source_kind k ON k.source_kind = b.source_kind
    JOIN fusion_creator c ON c.entity_kind = k.entity_kind AND c.department <> b.department
    JOIN onemap.fusion_rejection j ON j.run_id = %(run_id)s AND j.source_record_id = b.id
                                  AND j.reason LIKE '%%(unknown to the authority)'
    LEFT JOIN onemap.building g ON g.code = b.building_code
    GROUP BY k.entity_kind, b.entity_key, c.department
), opened AS (
    INSERT INTO onemap.verification_issue AS i
        (entity_kind, entity_key, attribute, authoritative_department, values, building_id, grid_code, geom)
    SELECT u.entity_kind, u.entity_key, 'existence', u.authority, u.values, u.building_id, u.grid_code,
           (SELECT ST_PointOnSurface(g.geom) FROM onemap.building g WHERE g.id = u.building_id)
    FROM unknown u
    ON CONFLICT (entity_kind, entity_key, attribute) DO UPDATE
    SET values = i.values || EXCLUDED.values, status = 'open', decided_by = NULL, decided_at = NULL, note = NULL
    RETURNING 1
)
SELECT count(*) AS unknown_to_authority FROM opened;
