-- The population pre-aggregate's triggers as migrations 0009 and 0011 installed them; 0013 replaces them with
-- spatial/kpis/sql/span_triggers.sql.
-- Keep the figures' pre-aggregates honest: a change to what they count marks them stale from the earliest day
-- it touches (the figures compute those days live until `onemap kpis refresh` recounts them).
CREATE OR REPLACE FUNCTION onemap.kpi_mark_dirty(aggregate text, since date) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO onemap.kpi_aggregate (name, dirty_since) VALUES (aggregate, since)
    ON CONFLICT (name) DO UPDATE
    SET dirty_since = least(coalesce(onemap.kpi_aggregate.dirty_since, 'infinity'::date), EXCLUDED.dirty_since)
$$;

-- Residences: the earliest start or end among the changed rows (old and new versions).
CREATE OR REPLACE FUNCTION onemap.kpi_residence_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    since date;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM onemap.kpi_mark_dirty('population', '1900-01-01'::date);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT least(min(valid_from), min(valid_to)) INTO since FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT least(since, min(valid_from), min(valid_to)) INTO since FROM old_rows;
    END IF;
    IF since IS NOT NULL THEN
        PERFORM onemap.kpi_mark_dirty('population', since);
    END IF;
    RETURN NULL;
END $$;

-- A person's household type is not versioned by day: a change counts from today, Beijing's day (the
-- aggregate's days are Beijing days; current_date is the server's, a day behind before 08:00 Beijing on UTC).
CREATE OR REPLACE FUNCTION onemap.kpi_person_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM onemap.kpi_mark_dirty('population', CASE WHEN TG_OP = 'TRUNCATE' THEN '1900-01-01'::date
                                                     ELSE (now() AT TIME ZONE 'Asia/Shanghai')::date END);
    RETURN NULL;
END $$;

-- A building moved to another grid changes every day's count per grid.
CREATE OR REPLACE FUNCTION onemap.kpi_building_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.grid_code <> n.grid_code) THEN
        PERFORM onemap.kpi_mark_dirty('population', '1900-01-01'::date);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS kpi_residence_insert ON onemap.residence;
DROP TRIGGER IF EXISTS kpi_residence_update ON onemap.residence;
DROP TRIGGER IF EXISTS kpi_residence_delete ON onemap.residence;
DROP TRIGGER IF EXISTS kpi_residence_truncate ON onemap.residence;
CREATE TRIGGER kpi_residence_insert AFTER INSERT ON onemap.residence
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_residence_changed();
CREATE TRIGGER kpi_residence_update AFTER UPDATE ON onemap.residence
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_residence_changed();
CREATE TRIGGER kpi_residence_delete AFTER DELETE ON onemap.residence
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_residence_changed();
CREATE TRIGGER kpi_residence_truncate AFTER TRUNCATE ON onemap.residence
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_residence_changed();

DROP TRIGGER IF EXISTS kpi_person_update ON onemap.person;
DROP TRIGGER IF EXISTS kpi_person_truncate ON onemap.person;
CREATE TRIGGER kpi_person_update AFTER UPDATE OF household_type ON onemap.person
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_person_changed();
CREATE TRIGGER kpi_person_truncate AFTER TRUNCATE ON onemap.person
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_person_changed();

DROP TRIGGER IF EXISTS kpi_building_moved ON onemap.building;
CREATE TRIGGER kpi_building_moved AFTER UPDATE ON onemap.building
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_building_moved();
