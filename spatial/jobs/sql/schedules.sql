SELECT job, cron, enabled FROM onemap.job_schedule
