-- House units: every unit from its valid_from, residential ones, occupied ones (while a residence in it runs:
-- the residences' periods merged per unit, by Beijing day) and vacant ones (neither occupied nor holding an
-- active enterprise: the unit's span less its occupied spans, counted -1).
WITH units AS (
    SELECT b.grid_code, u.id, u.use, u.valid_from,
           EXISTS (SELECT 1 FROM onemap.enterprise AS e
                   WHERE e.house_unit_id = u.id AND e.status = 'active') AS business
    FROM onemap.building AS b JOIN onemap.house_unit AS u ON u.building_id = b.id
    WHERE b.grid_code = ANY(%(span_grids)s::text[])
), stays AS (
    -- a residence opens an island of occupancy when it starts after every earlier one of its unit has ended
    SELECT r.house_unit_id, r.valid_from, coalesce(r.valid_to, 'infinity'::date) AS valid_to,
           coalesce(r.valid_from > max(coalesce(r.valid_to, 'infinity'::date)) OVER (
               PARTITION BY r.house_unit_id ORDER BY r.valid_from, r.valid_to
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)::int AS opens
    FROM onemap.building AS b JOIN onemap.residence AS r ON r.building_id = b.id
    WHERE b.grid_code = ANY(%(span_grids)s::text[])
), numbered AS (
    SELECT *, sum(opens) OVER (PARTITION BY house_unit_id ORDER BY valid_from, valid_to) AS island FROM stays
), occupied AS (
    SELECT u.grid_code, u.business,
           greatest(min(n.valid_from)::timestamp AT TIME ZONE 'Asia/Shanghai', u.valid_from) AS starts,
           nullif(max(n.valid_to), 'infinity'::date)::timestamp AT TIME ZONE 'Asia/Shanghai' AS ends
    FROM numbered AS n JOIN units AS u ON u.id = n.house_unit_id
    GROUP BY u.id, u.grid_code, u.business, u.valid_from, n.island
)
SELECT grid_code, 'units' AS key, valid_from AS starts, NULL::timestamptz AS ends, 1.0::float8 AS weight
FROM units
UNION ALL
SELECT grid_code, 'residential', valid_from, NULL, 1.0 FROM units WHERE use = 'residential'
UNION ALL
SELECT grid_code, 'vacant', valid_from, NULL, 1.0 FROM units WHERE NOT business
UNION ALL
SELECT grid_code, 'occupied', starts, ends, 1.0 FROM occupied WHERE ends IS NULL OR ends > starts
UNION ALL
SELECT grid_code, 'vacant', starts, ends, -1.0 FROM occupied WHERE NOT business AND (ends IS NULL OR ends > starts)
