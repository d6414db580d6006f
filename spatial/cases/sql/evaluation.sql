-- Per department over a period: cases it resolved, how many on time, how many it returned, how many were
-- reopened after it resolved them, and how many went overdue while it held them.
SELECT t.department,
       count(*) FILTER (WHERE t.action = 'resolve') AS resolved,
       count(*) FILTER (WHERE t.action = 'resolve' AND t.on_time) AS resolved_on_time,
       count(*) FILTER (WHERE t.action = 'return') AS returned,
       count(*) FILTER (WHERE t.action = 'reopen') AS reopened,
       count(*) FILTER (WHERE t.action IN ('escalate', 'overdue') AND t.role = 'system') AS overdue
FROM onemap.case_transition t
WHERE t.department IS NOT NULL
  AND (%(since)s::timestamptz IS NULL OR t.at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR t.at < %(until)s::timestamptz)
  AND (%(department)s::text IS NULL OR t.department = %(department)s::text)
GROUP BY t.department
ORDER BY t.department
