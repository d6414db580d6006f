-- People living in the given buildings at the as-of date; name, phone and ID number masked in SQL unless the
-- viewer may see them, and the birth date (a quasi-identifier) replaced by the age.
SELECT r.person_id, r.house_unit_id, r.building_id, r.grid_code,
       CASE WHEN %(unmasked)s THEN p.name ELSE onemap.mask_name(p.name) END AS name,
       CASE WHEN %(unmasked)s THEN p.id_number ELSE onemap.mask_id_number(p.id_number) END AS id_number,
       CASE WHEN %(unmasked)s THEN p.phone ELSE onemap.mask_phone(p.phone) END AS phone,
       CASE WHEN %(unmasked)s THEN p.birth_date END AS birth_date,
       p.sex, p.household_type,
       date_part('year', age(%(as_of)s::date, p.birth_date))::int AS age,
       ST_PointOnSurface(b.geom) AS geom
FROM resident r
JOIN person_asof p ON p.id = r.person_id
JOIN scoped_building b ON b.id = r.building_id
WHERE %(building_ids)s::bigint[] IS NULL OR r.building_id = ANY(%(building_ids)s::bigint[])
ORDER BY r.person_id
