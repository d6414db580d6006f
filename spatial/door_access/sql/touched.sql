-- The (Beijing day, building) pairs a load wrote events for: their per-day aggregates are rebuilt from them.
CREATE TEMP TABLE IF NOT EXISTS door_touched (day date NOT NULL, building_id bigint NOT NULL) ON COMMIT DROP;
TRUNCATE door_touched;
