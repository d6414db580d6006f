-- History for versioned tables: before a row is changed or deleted, its previous version goes into
-- <table>_history with the period it was valid for, so any question can be asked "as of" a date.
-- The acting user is taken from the transaction setting onemap.actor (set by the API), else the role.
CREATE OR REPLACE FUNCTION onemap.keep_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A version made by this same transaction (valid from now() to now()) was never valid for any instant: it
    -- is not history. Fusion creating a district's persons and then giving them the grid's phones in one run
    -- would otherwise write 250,000 empty periods (and spend most of the update doing it).
    IF OLD.valid_from = now() THEN
        RETURN CASE WHEN TG_OP = 'UPDATE' THEN NEW ELSE OLD END;
    END IF;
    EXECUTE format('INSERT INTO %I.%I SELECT ($1).*, now(), $2, $3', TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history')
        USING OLD, TG_OP, coalesce(nullif(current_setting('onemap.actor', true), ''), current_user);
    IF TG_OP = 'UPDATE' THEN
        NEW.valid_from := now();
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$;

-- Creates <table>_history (same columns + valid_to, operation, changed_by) and the trigger that fills it.
CREATE OR REPLACE FUNCTION onemap.enable_history(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    base text := (SELECT relname FROM pg_class WHERE oid = target);
    history text := base || '_history';
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS onemap.%I (LIKE onemap.%I)', history, base);
    EXECUTE format('ALTER TABLE onemap.%I ADD COLUMN IF NOT EXISTS valid_to timestamptz NOT NULL,'
                   ' ADD COLUMN IF NOT EXISTS operation text NOT NULL,'
                   ' ADD COLUMN IF NOT EXISTS changed_by text NOT NULL', history);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON onemap.%I (valid_from, valid_to)', history || '_period', history);
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'onemap' AND table_name = base AND column_name = 'geom') THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON onemap.%I USING gist (geom)', history || '_geom', history);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS keep_history ON onemap.%I', base);
    EXECUTE format('CREATE TRIGGER keep_history BEFORE UPDATE OR DELETE ON onemap.%I'
                   ' FOR EACH ROW EXECUTE FUNCTION onemap.keep_history()', base);
END
$$;

-- The audit log is append-only.
CREATE OR REPLACE FUNCTION onemap.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
