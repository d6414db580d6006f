-- A run begins. For a scheduled fire time only the first worker's insert succeeds (job, scheduled_for,
-- attempt are unique): the others get no row and leave the run to it.
INSERT INTO onemap.job_run (job, scheduled_for, attempt, worker)
VALUES (%(job)s, %(scheduled_for)s, %(attempt)s, %(worker)s)
ON CONFLICT DO NOTHING
RETURNING id
