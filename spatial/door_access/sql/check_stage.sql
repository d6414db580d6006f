-- What is wrong with a staged delivery: unknown devices first (by how many rows name them), then bad values.
SELECT 'unknown device' AS problem, s.device AS value, count(*) AS rows, min(s.row_no) AS first_row
FROM door_parsed s
WHERE NOT EXISTS (SELECT 1 FROM onemap.door_device d WHERE d.code = s.device)
GROUP BY s.device
UNION ALL
SELECT 'bad value', CASE
           WHEN at IS NULL THEN 'occurred_at ' || coalesce(at_text, '(empty)')
           WHEN direction IS NULL OR direction NOT IN ('i', 'o', 'in', 'out') THEN 'direction ' || coalesce(direction, '(empty)')
           WHEN key_kind IS NULL OR key_kind NOT IN ('id_number', 'card') THEN 'key_kind ' || coalesce(key_kind, '(empty)')
           WHEN person_key IS NULL OR person_key = '' THEN 'person_key (empty)'
           ELSE 'confidence ' || coalesce(confidence, '(empty)') END,
       1, row_no
FROM door_parsed
WHERE at IS NULL OR direction IS NULL OR direction NOT IN ('i', 'o', 'in', 'out')
   OR key_kind IS NULL OR key_kind NOT IN ('id_number', 'card') OR person_key IS NULL OR person_key = ''
   OR confidence IS NULL OR confidence !~ '^(0(\.[0-9]+)?|1(\.0+)?)$'
ORDER BY 1 DESC, 4
LIMIT 5
