-- A department's function, matter and system lists (三张清单), one JSON array each.
SELECT
    (SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'description', description, 'basis', basis)
                               ORDER BY name), '[]') FROM onemap.source_function WHERE department = %(department)s)
        AS functions,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'function', function_name, 'kind', kind,
                                                  'description', description) ORDER BY name), '[]')
     FROM onemap.source_matter WHERE department = %(department)s) AS matters,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'description', description, 'contact', contact)
                               ORDER BY name), '[]') FROM onemap.source_system WHERE department = %(department)s)
        AS systems
