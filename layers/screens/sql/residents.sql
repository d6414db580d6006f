-- Current residents of a workspace's grids, masked unless %(unmasked)s (names keep the first character, phones
-- 138****5678, ID numbers their configured prefix and suffix), with their unit.
SELECT CASE WHEN %(unmasked)s THEN p.name ELSE onemap.mask_name(p.name) END AS name,
       CASE WHEN %(unmasked)s THEN p.id_number::text ELSE onemap.mask_id_number(p.id_number::text) END AS id_number,
       CASE WHEN %(unmasked)s THEN p.phone ELSE onemap.mask_phone(p.phone) END AS phone,
       p.sex, p.household_type, b.code AS building_code, b.address, u.room_no, r.relation, r.valid_from,
       b.grid_code, count(*) OVER () AS matched
FROM onemap.residence AS r
JOIN onemap.building AS b ON b.id = r.building_id
JOIN onemap.house_unit AS u ON u.id = r.house_unit_id
JOIN onemap.person AS p ON p.id = r.person_id
WHERE b.grid_code = ANY(%(grids)s::text[])
  AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to > current_date)
ORDER BY b.code, u.room_no, p.id
LIMIT %(limit)s
