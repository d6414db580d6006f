-- Door-access events are a time series: one partition per day (dropped whole by retention), BRIN on time
-- (events arrive in time order, so a few hundred bytes index a day), person keys indexed for the rules.
CREATE INDEX IF NOT EXISTS door_access_event_time ON onemap.door_access_event USING brin (occurred_at);
CREATE INDEX IF NOT EXISTS door_access_event_person ON onemap.door_access_event (person_key, building_id);

-- The partition of one (Beijing) day, created when first needed.
CREATE OR REPLACE FUNCTION onemap.door_access_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    name text := 'door_access_event_' || to_char(day, 'YYYYMMDD');
    first timestamptz := (day::timestamp AT TIME ZONE 'Asia/Shanghai');
BEGIN
    IF to_regclass('onemap.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE onemap.%I PARTITION OF onemap.door_access_event FOR VALUES FROM (%L) TO (%L)',
                       name, first, first + interval '1 day');
    END IF;
    RETURN name;
END
$$;
