-- A page of verification issues; values of personal attributes are masked in SQL unless %(unmasked)s.
SELECT i.id, i.entity_kind,
       CASE WHEN i.entity_kind = 'person' AND NOT %(unmasked)s THEN onemap.mask_id_number(i.entity_key)
            ELSE i.entity_key END AS entity_key,
       i.attribute, i.authoritative_department, i.status, i.grid_code, g.code AS building_code,
       i.created_at, i.decided_by, i.decided_at, i.note,
       (SELECT jsonb_object_agg(source.key, source.value || jsonb_build_object('value',
                   CASE WHEN %(unmasked)s OR i.entity_kind <> 'person' THEN source.value ->> 'value'
                        WHEN i.attribute = 'name' THEN onemap.mask_name(source.value ->> 'value')
                        WHEN i.attribute = 'phone' THEN onemap.mask_phone(source.value ->> 'value')
                        WHEN i.attribute IN ('sex', 'birth_date') THEN '*'
                        ELSE source.value ->> 'value' END)
                   -- an identity issue names the person its record was closest to: an ID number too
                   || CASE WHEN NOT %(unmasked)s AND i.entity_kind = 'person'
                                AND source.value ->> 'candidate' IS NOT NULL
                           THEN jsonb_build_object('candidate', onemap.mask_id_number(source.value ->> 'candidate'))
                           ELSE '{}'::jsonb END)
        FROM jsonb_each(i.values) AS source) AS values,
       count(*) OVER () AS matched
FROM onemap.verification_issue i
LEFT JOIN onemap.building g ON g.id = i.building_id
WHERE (%(grid)s::text IS NULL OR i.grid_code = %(grid)s::text)
  AND (%(status)s::text IS NULL OR i.status = %(status)s::text)
  AND (%(entity_kind)s::text IS NULL OR i.entity_kind = %(entity_kind)s::text)
  AND (%(attribute)s::text IS NULL OR i.attribute = %(attribute)s::text)
  AND (%(building)s::text IS NULL OR g.code = %(building)s::text)
ORDER BY i.id
LIMIT %(limit)s OFFSET %(offset)s
