-- Verification issues against the generator's answer key, per (department, entity, attribute): a department
-- counts as found when an issue names it as disagreeing with the authority. The grid survey's residence records
-- describe people, so its planted rows are compared as person rows.
WITH found AS (
    SELECT DISTINCT source.key AS department, i.entity_kind, i.entity_key, i.attribute
    FROM onemap.verification_issue i
    CROSS JOIN LATERAL jsonb_each(i.values) AS source
    WHERE i.decided_by IS DISTINCT FROM 'onemap fuse' AND i.attribute NOT IN ('existence', 'identity')
      AND (source.value ->> 'agrees')::boolean IS FALSE
), planted AS (
    SELECT department, CASE entity_kind WHEN 'residence' THEN 'person' ELSE entity_kind END AS entity_kind,
           entity_key, attribute
    FROM onemap.planted_disagreement
)
SELECT count(*) FILTER (WHERE f.department IS NOT NULL AND p.department IS NOT NULL) AS true_positives,
       count(*) FILTER (WHERE f.department IS NOT NULL) AS found,
       count(*) FILTER (WHERE p.department IS NOT NULL) AS planted
FROM found f
FULL JOIN planted p USING (department, entity_kind, entity_key, attribute)
