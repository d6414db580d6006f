-- Keep the pre-aggregated figures honest: a change to anything they count marks the grids it touches stale
-- (onemap.kpi_dirty_grid) for the figures made from that table's topic ('archives': buildings, units, people,
-- enterprises; 'cases'); the figures count stale grids live until a refresh recounts them and clears the mark.
-- Each mark takes a new number, so a refresh clears only the marks it read, never one made while it ran.
-- Every trigger function takes the topic as its argument.
CREATE SEQUENCE IF NOT EXISTS onemap.kpi_mark;

CREATE OR REPLACE FUNCTION onemap.kpi_mark_grids(topic text, grids text[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO onemap.kpi_dirty_grid (topic, grid_code, mark)
    SELECT topic, g, nextval('onemap.kpi_mark') FROM (SELECT DISTINCT g FROM unnest(grids) AS g) AS d
    WHERE g IS NOT NULL
    ON CONFLICT (topic, grid_code) DO UPDATE SET mark = EXCLUDED.mark
$$;

CREATE OR REPLACE FUNCTION onemap.kpi_mark_every_grid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(SELECT code FROM onemap.admin_area WHERE level = 'grid'));
    RETURN NULL;
END $$;

-- Rows that carry their grid (buildings, cases and their history).
CREATE OR REPLACE FUNCTION onemap.kpi_grid_rows_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(SELECT DISTINCT grid_code FROM new_rows));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(SELECT DISTINCT grid_code FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

-- Rows that count in their building's grid (house units, enterprises and their history, residences).
CREATE OR REPLACE FUNCTION onemap.kpi_building_rows_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(
            SELECT DISTINCT b.grid_code FROM (SELECT DISTINCT building_id FROM new_rows) AS n
            JOIN onemap.building AS b ON b.id = n.building_id));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(
            SELECT DISTINCT b.grid_code FROM (SELECT DISTINCT building_id FROM old_rows) AS o
            JOIN onemap.building AS b ON b.id = o.building_id));
    END IF;
    RETURN NULL;
END $$;

-- A person's household type (registered or migrant population) counts where the person lives.
CREATE OR REPLACE FUNCTION onemap.kpi_person_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM onemap.kpi_mark_grids(TG_ARGV[0], ARRAY(
        SELECT DISTINCT b.grid_code FROM new_rows AS n
        JOIN old_rows AS o ON o.id = n.id AND o.household_type IS DISTINCT FROM n.household_type
        JOIN onemap.residence AS r ON r.person_id = n.id
        JOIN onemap.building AS b ON b.id = r.building_id));
    RETURN NULL;
END $$;

DO $$
DECLARE
    target record;
BEGIN
    FOR target IN SELECT * FROM (VALUES
        ('building', 'kpi_grid_rows_changed', 'archives', true),
        ('building_history', 'kpi_grid_rows_changed', 'archives', false),
        ('house_unit', 'kpi_building_rows_changed', 'archives', true),
        ('enterprise', 'kpi_building_rows_changed', 'archives', true),
        ('enterprise_history', 'kpi_building_rows_changed', 'archives', false),
        ('residence', 'kpi_building_rows_changed', 'archives', true),
        ('service_case', 'kpi_grid_rows_changed', 'cases', true),
        ('service_case_history', 'kpi_grid_rows_changed', 'cases', false)) AS t(tbl, fn, topic, edited)
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS kpi_insert ON onemap.%I', target.tbl);
        EXECUTE format('CREATE TRIGGER kpi_insert AFTER INSERT ON onemap.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION onemap.%I(%L)', target.tbl, target.fn, target.topic);
        EXECUTE format('DROP TRIGGER IF EXISTS kpi_truncate ON onemap.%I', target.tbl);
        EXECUTE format('CREATE TRIGGER kpi_truncate AFTER TRUNCATE ON onemap.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_mark_every_grid(%L)', target.tbl, target.topic);
        -- history tables only grow (their rows written by versioning come with the change to the current row)
        IF target.edited THEN
            EXECUTE format('DROP TRIGGER IF EXISTS kpi_update ON onemap.%I', target.tbl);
            EXECUTE format('CREATE TRIGGER kpi_update AFTER UPDATE ON onemap.%I '
                           'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION onemap.%I(%L)', target.tbl, target.fn, target.topic);
            EXECUTE format('DROP TRIGGER IF EXISTS kpi_delete ON onemap.%I', target.tbl);
            EXECUTE format('CREATE TRIGGER kpi_delete AFTER DELETE ON onemap.%I REFERENCING OLD TABLE AS old_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION onemap.%I(%L)', target.tbl, target.fn, target.topic);
        END IF;
    END LOOP;
END $$;

DROP TRIGGER IF EXISTS kpi_person_update ON onemap.person;
DROP TRIGGER IF EXISTS kpi_person_truncate ON onemap.person;
CREATE TRIGGER kpi_person_truncate AFTER TRUNCATE ON onemap.person
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_mark_every_grid('archives');
-- (a trigger with transition tables cannot name columns: the function compares the old and new rows)
CREATE TRIGGER kpi_person_update AFTER UPDATE ON onemap.person
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.kpi_person_changed('archives');
