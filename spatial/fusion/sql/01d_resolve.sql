-- Records sent without a usable key are matched to an entity, each match with a confidence: persons by name and
-- birth date (1.0 when the phone agrees too, 0.7 without it) or by birth date, phone and surname when the given
-- name was mistyped (0.9), enterprises by normalised name (1.0 when their building's standard address agrees
-- too, 0.7 without it) or by address and a name one or two characters off (0.85), buildings by standard address
-- (1.0) or footprint overlap (the intersection over union, from 0.5). A mistyped key counts as well: a candidate
-- found by name and birth date, or by address, whose key is at most a digit and its check characters away from
-- the one sent is the one meant (1.0, 0.95). Several equally good candidates share the confidence.
-- At or above the threshold the record takes the entity's key; below it an identity issue opens, never a guess.
-- After creation (01b, 01c), so that a record finds an entity its authority registers in the same run.
--
-- A key the archive does not hold, sent by a department that does not create that kind, is most often a typo
-- (one digit off, the check character recomputed by the sending system): such records are matched the same way,
-- and when the match falls short they stay what they were, unknown to the authority (02_reject).
CREATE UNLOGGED TABLE fusion_keyless AS
SELECT b.id, b.department, b.source_kind, k.entity_kind, r.payload, '' AS sent_key
FROM fusion_batch b
JOIN onemap.source_record r ON r.id = b.id
JOIN fusion_source_kind k ON k.source_kind = b.source_kind
WHERE coalesce(btrim(b.entity_key), '') = ''
UNION ALL
SELECT b.id, b.department, b.source_kind, k.entity_kind, r.payload, b.entity_key
FROM fusion_batch b
JOIN fusion_source_kind k ON k.source_kind = b.source_kind
JOIN onemap.source_record r ON r.id = b.id
-- outer joins kept only where they find nothing: the planner makes each an anti-join on the archive's key index
LEFT JOIN onemap.person p ON k.entity_kind = 'person' AND p.id_number = b.entity_key::bpchar
LEFT JOIN onemap.enterprise e ON k.entity_kind = 'enterprise' AND e.credit_code = b.entity_key::bpchar
LEFT JOIN onemap.building g ON k.entity_kind = 'building' AND g.code = b.entity_key
WHERE btrim(b.entity_key) <> '' AND k.entity_kind IN ('person', 'enterprise', 'building')
  AND p.id_number IS NULL AND e.credit_code IS NULL AND g.code IS NULL
  AND NOT EXISTS (SELECT 1 FROM fusion_creator c WHERE c.entity_kind = k.entity_kind AND c.department = b.department);

CREATE UNLOGGED TABLE fusion_candidate AS
SELECT k.id, p.id_number::text AS entity_key,
       CASE WHEN p.phone = k.payload ->> 'phone' OR m.key_close THEN 1.0 ELSE 0.7 END AS confidence,
       CASE WHEN p.phone = k.payload ->> 'phone' THEN 'name+birth_date+phone'
            WHEN m.key_close THEN 'name+birth_date+key' ELSE 'name+birth_date' END AS method
FROM fusion_keyless k
JOIN onemap.person p ON p.name = k.payload ->> 'name' AND p.birth_date = onemap.try_date(k.payload ->> 'birth_date')
CROSS JOIN LATERAL (SELECT k.sent_key <> '' AND public.levenshtein(p.id_number::text, k.sent_key) <= 2 AS key_close) m
WHERE k.entity_kind = 'person'
UNION ALL
SELECT k.id, p.id_number::text, 0.9, 'birth_date+phone+surname'
FROM fusion_keyless k
JOIN onemap.person p ON p.birth_date = onemap.try_date(k.payload ->> 'birth_date') AND p.phone = k.payload ->> 'phone'
WHERE k.entity_kind = 'person' AND left(p.name, 1) = left(k.payload ->> 'name', 1)
UNION ALL
SELECT k.id, e.credit_code::text,
       CASE WHEN g.address = normalize(regexp_replace(k.payload ->> 'address', '\s+', '', 'g'), NFKC)
            THEN 1.0 ELSE 0.7 END,
       CASE WHEN g.address = normalize(regexp_replace(k.payload ->> 'address', '\s+', '', 'g'), NFKC)
            THEN 'name+address' ELSE 'name' END
FROM fusion_keyless k
JOIN onemap.enterprise e
  ON onemap.fusion_normalise(e.name, 'normalised') = onemap.fusion_normalise(k.payload ->> 'name', 'normalised')
JOIN onemap.building g ON g.id = e.building_id
WHERE k.entity_kind = 'enterprise'
UNION ALL
SELECT k.id, e.credit_code::text, CASE WHEN m.key_close THEN 0.95 ELSE 0.85 END,
       CASE WHEN m.key_close THEN 'address+key' ELSE 'address+similar name' END
FROM fusion_keyless k
JOIN onemap.building g ON g.address = normalize(regexp_replace(k.payload ->> 'address', '\s+', '', 'g'), NFKC)
JOIN onemap.enterprise e ON e.building_id = g.id
CROSS JOIN LATERAL (SELECT k.sent_key <> '' AND public.levenshtein(e.credit_code::text, k.sent_key) <= 3 AS key_close) m
WHERE k.entity_kind = 'enterprise'
  AND (m.key_close OR public.levenshtein(onemap.fusion_normalise(e.name, 'normalised'),
                                         onemap.fusion_normalise(k.payload ->> 'name', 'normalised')) BETWEEN 1 AND 2)
UNION ALL
SELECT k.id, g.code, 1.0, 'address'
FROM fusion_keyless k
JOIN onemap.building g ON g.address = normalize(regexp_replace(k.payload ->> 'address', '\s+', '', 'g'), NFKC)
WHERE k.entity_kind = 'building'
UNION ALL
SELECT f.id, g.code,
       ST_Area(ST_Intersection(g.geom, f.geom)) / nullif(ST_Area(ST_Union(g.geom, f.geom)), 0), 'footprint'
FROM (SELECT id, ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(payload -> 'geometry'), 4326)) AS geom
      FROM fusion_keyless
      WHERE entity_kind = 'building' AND jsonb_typeof(payload -> 'geometry') = 'object'
        AND NOT payload ? 'address') f
JOIN onemap.building g ON g.geom && f.geom AND ST_Intersects(g.geom, f.geom);

CREATE UNLOGGED TABLE fusion_match AS
SELECT k.id, k.department, k.entity_kind, k.sent_key, c.entity_key,
       CASE WHEN k.sent_key <> '' THEN c.method || ', sent key ' || k.sent_key || ' unknown' ELSE c.method END
           AS method,
       coalesce(c.confidence / c.ties, 0) AS confidence
FROM fusion_keyless k
LEFT JOIN LATERAL (
    SELECT entity_key, method, confidence, count(*) OVER (PARTITION BY confidence) AS ties
    FROM (  -- an entity found by several methods counts once, at its best
        SELECT DISTINCT ON (c.entity_key) c.entity_key, c.method, c.confidence
        FROM fusion_candidate c WHERE c.id = k.id AND c.confidence >= 0.5
        ORDER BY c.entity_key, c.confidence DESC
    ) best
    ORDER BY confidence DESC, entity_key
    LIMIT 1
) c ON true;

INSERT INTO onemap.source_resolution (source_record_id, entity_kind, entity_key, method, confidence, run_id)
SELECT id, entity_kind, entity_key, method, confidence, %(run_id)s
FROM fusion_match WHERE confidence >= %(threshold)s
ON CONFLICT (source_record_id) DO UPDATE SET entity_key = EXCLUDED.entity_key, method = EXCLUDED.method,
    confidence = EXCLUDED.confidence, run_id = EXCLUDED.run_id, resolved_at = now();

-- The record now names its entity, so every later step (and every later run) reads it under that key.
UPDATE onemap.source_record r SET entity_key = m.entity_key
FROM fusion_match m WHERE m.id = r.id AND m.confidence >= %(threshold)s;

UPDATE fusion_batch b SET entity_key = m.entity_key
FROM fusion_match m WHERE m.id = b.id AND m.confidence >= %(threshold)s;

WITH opened AS (
    INSERT INTO onemap.verification_issue AS i (entity_kind, entity_key, attribute, authoritative_department, values)
    SELECT m.entity_kind, coalesce(m.entity_key, 'record:' || m.id), 'identity', c.department,
           jsonb_build_object(m.department, jsonb_build_object(
               'record', m.id, 'candidate', m.entity_key, 'method', m.method,
               'confidence', round(m.confidence::numeric, 3), 'agrees', false))
    FROM fusion_match m
    LEFT JOIN fusion_creator c ON c.entity_kind = m.entity_kind
    WHERE m.confidence < %(threshold)s AND m.sent_key = ''
    ON CONFLICT (entity_kind, entity_key, attribute) DO UPDATE
    SET values = i.values || EXCLUDED.values, status = 'open', decided_by = NULL, decided_at = NULL, note = NULL
    RETURNING 1
)
SELECT count(*) AS identity_issues FROM opened;

INSERT INTO onemap.fusion_rejection (run_id, source_record_id, reason)
SELECT %(run_id)s, id,
       CASE WHEN entity_key IS NULL THEN 'no key, and nothing in the archive matches it: see its identity issue'
            ELSE 'no key, and the best match (' || entity_key || ', ' || method || ', confidence '
                 || round(confidence::numeric, 2) || ') is below the threshold: see its identity issue' END
FROM fusion_match WHERE confidence < %(threshold)s AND sent_key = '';

SELECT count(*) FILTER (WHERE confidence >= %(threshold)s) AS keyless_resolved FROM fusion_match;
