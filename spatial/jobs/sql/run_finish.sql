UPDATE onemap.job_run
SET finished_at = clock_timestamp(), outcome = %(outcome)s, detail = %(detail)s,
    duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int
WHERE id = %(id)s
