-- Where each disagreeing entity is on the map: a person at their current home, an enterprise at its point, a
-- building at a point on its footprint.
CREATE UNLOGGED TABLE fusion_location AS
SELECT v.entity_kind, v.entity_key, g.id AS building_id, g.grid_code, ST_PointOnSurface(g.geom) AS geom
FROM (SELECT DISTINCT entity_kind, entity_key FROM fusion_verdict WHERE disagrees) v
JOIN onemap.building g ON v.entity_kind = 'building' AND g.code = v.entity_key
UNION ALL
SELECT DISTINCT ON (v.entity_key) v.entity_kind, v.entity_key, g.id, g.grid_code, ST_PointOnSurface(g.geom)
FROM (SELECT DISTINCT entity_kind, entity_key FROM fusion_verdict WHERE disagrees AND entity_kind = 'person') v
JOIN onemap.person p ON p.id_number = v.entity_key::bpchar
JOIN onemap.residence r ON r.person_id = p.id AND r.valid_to IS NULL
JOIN onemap.building g ON g.id = r.building_id
UNION ALL
SELECT v.entity_kind, v.entity_key, g.id, g.grid_code, e.geom
FROM (SELECT DISTINCT entity_kind, entity_key FROM fusion_verdict WHERE disagrees AND entity_kind = 'enterprise') v
JOIN onemap.enterprise e ON e.credit_code = v.entity_key::bpchar
JOIN onemap.building g ON g.id = e.building_id;

-- New disagreements open an issue; an issue whose values changed since someone decided it opens again.
WITH upserted AS (
    INSERT INTO onemap.verification_issue AS i
        (entity_kind, entity_key, attribute, authoritative_department, values, building_id, grid_code, geom)
    SELECT v.entity_kind, v.entity_key, v.attribute, v.authority, v.values, l.building_id, l.grid_code, l.geom
    FROM fusion_verdict v
    LEFT JOIN fusion_location l ON l.entity_kind = v.entity_kind AND l.entity_key = v.entity_key
    WHERE v.disagrees
    ON CONFLICT ON CONSTRAINT verification_issue_subject DO UPDATE
    SET values = EXCLUDED.values,
        authoritative_department = EXCLUDED.authoritative_department,
        building_id = EXCLUDED.building_id, grid_code = EXCLUDED.grid_code, geom = EXCLUDED.geom,
        status = 'open', decided_by = NULL, decided_at = NULL, note = NULL
    WHERE i.values IS DISTINCT FROM EXCLUDED.values OR i.decided_by = 'onemap fuse'
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS opened, count(*) FILTER (WHERE NOT inserted) AS reopened
FROM upserted;
