-- Citizen declarations matched to a building of a workspace's grids whose person or business is not (yet) in
-- the archive there (as in the figure `declarations_pending`); names and phones masked unless %(unmasked)s.
SELECT d.id, d.kind, d.batch,
       CASE WHEN %(unmasked)s THEN d.name ELSE onemap.mask_name(d.name) END AS name,
       CASE WHEN %(unmasked)s THEN d.phone ELSE onemap.mask_phone(d.phone) END AS phone,
       d.address, b.code AS building_code, b.grid_code, d.imported_at, count(*) OVER () AS matched
FROM onemap.declaration AS d
JOIN onemap.building AS b ON b.id = d.building_id
WHERE b.grid_code = ANY(%(grids)s::text[])
  AND CASE d.kind
      WHEN 'person' THEN NOT EXISTS (
          SELECT 1 FROM onemap.person AS p JOIN onemap.residence AS r ON r.person_id = p.id
          WHERE p.id_number = d.id_number AND r.building_id = d.building_id
            AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to > current_date))
      ELSE NOT EXISTS (
          SELECT 1 FROM onemap.enterprise AS e WHERE e.credit_code = d.credit_code AND e.building_id = d.building_id)
      END
ORDER BY d.imported_at DESC, d.id
LIMIT %(limit)s
