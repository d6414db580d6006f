-- Verification issues still open at each instant, per authoritative department (the one that must decide), in
-- each area.
WITH scope AS (
    SELECT * FROM unnest(%(grids)s::text[], %(areas)s::text[]) AS s(grid_code, area_code)
), t AS (
    SELECT unnest(%(instants)s::timestamptz[]) AS at
)
SELECT t.at, s.area_code, coalesce(v.authoritative_department, 'none') AS key, count(*)::float8 AS value
FROM t
CROSS JOIN LATERAL (
    SELECT grid_code, status, authoritative_department FROM onemap.verification_issue
    WHERE valid_from <= t.at AND created_at <= t.at
    UNION ALL
    SELECT grid_code, status, authoritative_department FROM onemap.verification_issue_history
    WHERE valid_from <= t.at AND valid_to > t.at AND created_at <= t.at
) AS v
JOIN scope AS s ON s.grid_code = v.grid_code
WHERE v.status = 'open'
GROUP BY 1, 2, 3
