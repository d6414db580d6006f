-- The change feed of the SSE streams: every statement that adds or changes cases or warnings appends their ids
-- to onemap.change_feed and wakes the listeners (NOTIFY onemap_changes, payload the stream name).
-- A transaction-level advisory lock makes feed ids follow commit order, so a listener reading "id > last seen"
-- never skips a row that commits late.
CREATE OR REPLACE FUNCTION onemap.feed_append() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('onemap.change_feed'));
    IF TG_ARGV[0] = 'cases' THEN
        INSERT INTO onemap.change_feed (stream, entity_id) SELECT 'cases', id FROM changed_rows ORDER BY id;
    ELSIF TG_TABLE_NAME = 'warning' THEN
        INSERT INTO onemap.change_feed (stream, entity_id)
        SELECT 'warnings', event_id FROM changed_rows ORDER BY event_id;
    ELSE
        INSERT INTO onemap.change_feed (stream, entity_id) SELECT 'warnings', id FROM changed_rows ORDER BY id;
    END IF;
    PERFORM pg_notify('onemap_changes', TG_ARGV[0]);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS feed_insert ON onemap.service_case;
CREATE TRIGGER feed_insert AFTER INSERT ON onemap.service_case REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.feed_append('cases');
DROP TRIGGER IF EXISTS feed_update ON onemap.service_case;
CREATE TRIGGER feed_update AFTER UPDATE ON onemap.service_case REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.feed_append('cases');
DROP TRIGGER IF EXISTS feed_insert ON onemap.event;
CREATE TRIGGER feed_insert AFTER INSERT ON onemap.event REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.feed_append('warnings');
DROP TRIGGER IF EXISTS feed_update ON onemap.event;
CREATE TRIGGER feed_update AFTER UPDATE ON onemap.event REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.feed_append('warnings');
DROP TRIGGER IF EXISTS feed_update ON onemap.warning;
CREATE TRIGGER feed_update AFTER UPDATE ON onemap.warning REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.feed_append('warnings');
