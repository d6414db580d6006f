INSERT INTO onemap.job_schedule (job, cron, enabled) VALUES (%(job)s, %(cron)s, %(enabled)s)
ON CONFLICT (job) DO UPDATE SET cron = EXCLUDED.cron, enabled = EXCLUDED.enabled, updated_at = now()
