-- Door-access events are a time series: one partition per day (dropped whole by retention), BRIN on time
-- (events arrive in time order, so a few hundred bytes index a day), person keys indexed for the rules.
CREATE INDEX IF NOT EXISTS door_access_event_time ON onemap.door_access_event USING brin (occurred_at);
CREATE INDEX IF NOT EXISTS door_access_event_person ON onemap.door_access_event (person_key, building_id);

-- The partition of one (Beijing) day, created when first needed, with the same day of the per-day aggregates
-- (door_face_day, door_card_day: no indexes, the rules read whole days of them).
CREATE OR REPLACE FUNCTION onemap.door_access_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    suffix text := to_char(day, 'YYYYMMDD');
    name text := 'door_access_event_' || suffix;
    first timestamptz := (day::timestamp AT TIME ZONE 'Asia/Shanghai');
    aggregate text;
BEGIN
    IF to_regclass('onemap.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE onemap.%I PARTITION OF onemap.door_access_event FOR VALUES FROM (%L) TO (%L)',
                       name, first, first + interval '1 day');
    END IF;
    FOREACH aggregate IN ARRAY ARRAY['door_face_day', 'door_card_day'] LOOP
        IF to_regclass('onemap.' || aggregate) IS NOT NULL AND to_regclass('onemap.' || aggregate || '_' || suffix) IS NULL THEN
            EXECUTE format('CREATE TABLE onemap.%I PARTITION OF onemap.%I FOR VALUES FROM (%L) TO (%L)',
                           aggregate || '_' || suffix, aggregate, day, day + 1);
        END IF;
    END LOOP;
    RETURN name;
END
$$;

-- A delivered time as timestamptz, or null when it is not an ISO 8601 date and time (times without an offset are
-- Beijing time). Valid rows take the fast path; only day numbers past 28 are tried in a sub-block, because a
-- block with an exception handler costs a subtransaction on every call.
CREATE OR REPLACE FUNCTION onemap.door_try_time(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF value IS NULL OR value !~ ('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3]):[0-5][0-9]'
                                  '(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?$') THEN
        RETURN NULL;
    END IF;
    IF substr(value, 9, 2)::int > 28 THEN
        BEGIN
            PERFORM substr(value, 1, 10)::date;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END;
    END IF;
    IF value ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
        RETURN value::timestamptz;
    END IF;
    RETURN value::timestamp AT TIME ZONE 'Asia/Shanghai';
END
$$;
