-- Feed rows older than the retention; the newest row always stays, so the span tells stale ids from new ones.
WITH pruned AS (
    DELETE FROM onemap.change_feed
    WHERE at < now() - make_interval(hours => %(hours)s) AND id < (SELECT max(id) FROM onemap.change_feed)
    RETURNING 1
)
SELECT count(*) AS pruned FROM pruned
