-- The latest run of each job.
SELECT DISTINCT ON (job) job, started_at, outcome, duration_ms, attempt, detail
FROM onemap.job_run
ORDER BY job, started_at DESC, id DESC
