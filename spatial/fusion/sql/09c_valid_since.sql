-- An entity this run created was in the world before the archive heard of it: it is valid from its record's own
-- date (a building from its year of completion, its rooms with it, a person from birth, an enterprise from its
-- registration), as a generated archive is, so "as of" an earlier date finds it. Only entities made by this
-- run (their keys in fusion_new, still valid from now()) are moved: an entity the run changed keeps its new
-- version's start, its old version being in history up to now(). The history trigger ignores these updates:
-- the versions they replace were made by this transaction (spatial/sql/history.sql).
WITH moved AS (
    UPDATE onemap.building g SET valid_from = make_date(g.built_year, 1, 1)
    FROM fusion_new n
    WHERE n.entity_kind = 'building' AND g.code = n.entity_key AND g.valid_from = now()
      AND make_date(g.built_year, 1, 1) < now()
    RETURNING 1
)
SELECT count(*) AS backdated_buildings FROM moved;

WITH moved AS (
    UPDATE onemap.house_unit u SET valid_from = g.valid_from
    FROM fusion_new n
    JOIN onemap.building g ON g.code = n.payload ->> 'building_code'
    WHERE n.entity_kind = 'house_unit' AND u.building_id = g.id
      AND u.unit_no = coalesce(nullif(btrim(n.payload ->> 'unit_no'), ''), '1') AND u.room_no = n.payload ->> 'room_no'
      AND u.valid_from = now() AND g.valid_from < now()
    RETURNING 1
)
SELECT count(*) AS backdated_house_units FROM moved;

WITH moved AS (
    UPDATE onemap.person p SET valid_from = p.birth_date
    FROM fusion_new n
    WHERE n.entity_kind = 'person' AND p.id_number = n.entity_key::bpchar AND p.valid_from = now()
      AND p.birth_date < now()
    RETURNING 1
)
SELECT count(*) AS backdated_persons FROM moved;

WITH moved AS (
    UPDATE onemap.enterprise e SET valid_from = e.registered_on
    FROM fusion_new n
    WHERE n.entity_kind = 'enterprise' AND e.credit_code = n.entity_key::bpchar AND e.valid_from = now()
      AND e.registered_on < now()
    RETURNING 1
)
SELECT count(*) AS backdated_enterprises FROM moved;
