-- Residence from its authority (the grid survey): a person whose surveyed unit differs from their current home
-- moves: the old residence is closed and a new one opens, so the move stays in the timeline. The move happened
-- on the day the authority's record says the person moved in (入住日期, `moved_in`), when it sends one that is
-- not in the future; otherwise today.
CREATE UNLOGGED TABLE fusion_move AS
WITH moved_in AS (
    SELECT c.entity_key, onemap.try_date(l.payload ->> 'moved_in') AS moved_in
    FROM fusion_claim c
    JOIN fusion_latest l ON l.entity_kind = c.entity_kind AND l.entity_key = c.entity_key
                        AND l.department = c.department
    WHERE c.entity_kind = 'person' AND c.attribute = 'room_no' AND c.is_authority
)
SELECT DISTINCT ON (p.id) p.id AS person_id, u.id AS house_unit_id, u.building_id,
       CASE WHEN m.moved_in <= current_date THEN m.moved_in END AS moved_in
FROM fusion_authority a
JOIN onemap.person p ON p.id_number = a.entity_key::bpchar
JOIN onemap.building g ON g.code = a.building_code
JOIN onemap.house_unit u ON u.building_id = g.id AND u.room_no = a.room_no
LEFT JOIN moved_in m ON m.entity_key = a.entity_key
WHERE a.entity_kind = 'person' AND a.room_no IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM onemap.residence r
                  WHERE r.person_id = p.id AND r.house_unit_id = u.id AND r.valid_to IS NULL)
ORDER BY p.id, u.unit_no, u.id;

CREATE UNLOGGED TABLE fusion_moved_out AS
WITH closed AS (
    UPDATE onemap.residence r
    SET valid_to = greatest(coalesce(m.moved_in, current_date), r.valid_from + 1)
    FROM fusion_move m
    WHERE r.person_id = m.person_id AND r.valid_to IS NULL
    RETURNING r.person_id, r.relation, r.valid_to
)
SELECT DISTINCT ON (person_id) person_id, relation, valid_to FROM closed ORDER BY person_id, valid_to DESC;

WITH opened AS (
    INSERT INTO onemap.residence (person_id, house_unit_id, building_id, relation, valid_from)
    SELECT m.person_id, m.house_unit_id, m.building_id, coalesce(o.relation, 'tenant'),
           coalesce(o.valid_to, m.moved_in, current_date)
    FROM fusion_move m
    LEFT JOIN fusion_moved_out o ON o.person_id = m.person_id
    RETURNING 1
)
SELECT count(*) AS residence FROM opened;
