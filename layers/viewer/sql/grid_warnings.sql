SELECT kind, severity, to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS occurred,
       description
FROM onemap.event
WHERE grid_code = %(code)s AND status = 'open'
ORDER BY severity DESC, occurred_at DESC
LIMIT 20
