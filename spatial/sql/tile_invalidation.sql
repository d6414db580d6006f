-- Edit-driven tile invalidation. Every statement that changes a tiled table appends one row to
-- onemap.tile_change (the boxes its changed rows covered, before and after) and NOTIFYs its id on channel
-- onemap_tiles. Each server process LISTENs and purges exactly the cached tiles those boxes touch; the log lets
-- a process that was down (or a disk cache that outlived it) catch up on the changes it missed.
-- Statement-level triggers with transition tables: a COPY of 170k rows costs one log row, not 170k NOTIFYs.

CREATE TABLE IF NOT EXISTS onemap.tile_change (
    id bigserial PRIMARY KEY,
    source text NOT NULL,                -- the changed table, or 'layer' for catalog changes
    boxes jsonb NOT NULL DEFAULT '[]',   -- [[west, south, east, north], ...] in EPSG:4326
    layers jsonb NOT NULL DEFAULT '[]',  -- catalog changes: the layer ids
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- Up to this many changed rows are sent as one box each; beyond it (bulk loads) as their common extent.
CREATE OR REPLACE FUNCTION onemap.tile_change_box_limit() RETURNS int
LANGUAGE sql IMMUTABLE RETURN 40;

CREATE OR REPLACE FUNCTION onemap.notify_tile_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    geom_column text := coalesce(TG_ARGV[0], 'geom');
    changed text;
    boxes jsonb;
    change_id bigint;
BEGIN
    changed := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %I AS g FROM new_rows', geom_column)
        WHEN 'DELETE' THEN format('SELECT %I AS g FROM old_rows', geom_column)
        ELSE format('SELECT %1$I AS g FROM old_rows UNION ALL SELECT %1$I AS g FROM new_rows', geom_column)
    END;
    EXECUTE format(
        'WITH changed AS (SELECT g::box2d AS b FROM (%s) rows WHERE g IS NOT NULL),
              few AS (SELECT count(*) <= onemap.tile_change_box_limit() AS yes FROM changed)
         SELECT CASE WHEN (SELECT yes FROM few)
                THEN (SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b))), ''[]'') FROM changed)
                ELSE (SELECT jsonb_build_array(jsonb_build_array(ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)))
                      FROM (SELECT ST_Extent(b) AS e FROM changed) x) END', changed)
        INTO boxes;
    IF boxes IS NULL OR boxes = '[]'::jsonb THEN
        RETURN NULL;
    END IF;
    INSERT INTO onemap.tile_change (source, boxes) VALUES (TG_TABLE_NAME, boxes) RETURNING id INTO change_id;
    PERFORM pg_notify('onemap_tiles', json_build_object('id', change_id, 'source', TG_TABLE_NAME, 'boxes', boxes)::text);
    RETURN NULL;
END
$$;

-- Installs the three statement triggers on a table (idempotent). Views cannot carry them: their layers are
-- refreshed by version bumps instead.
CREATE OR REPLACE FUNCTION onemap.enable_tile_invalidation(target regclass, geom_column text DEFAULT 'geom')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = target) NOT IN ('r', 'p') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE OR REPLACE TRIGGER tile_change_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_tile_change(%L)', target, geom_column);
    EXECUTE format('CREATE OR REPLACE TRIGGER tile_change_update AFTER UPDATE ON %s'
                   ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_tile_change(%L)', target, geom_column);
    EXECUTE format('CREATE OR REPLACE TRIGGER tile_change_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_tile_change(%L)', target, geom_column);
END
$$;

-- Catalog changes (a layer added, redefined or removed): processes drop their catalog copy and that layer's
-- tiles; a new table layer gets its invalidation triggers here, so uploads need no extra step.
CREATE OR REPLACE FUNCTION onemap.notify_layer_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids jsonb;
    change_id bigint;
    relation regclass;
    added record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT coalesce(jsonb_agg(id), '[]') INTO ids FROM old_rows;
    ELSE
        SELECT coalesce(jsonb_agg(id), '[]') INTO ids FROM new_rows;
        FOR added IN SELECT source, geometry_column FROM new_rows WHERE kind IN ('table', 'upload') LOOP
            relation := to_regclass(format('onemap.%I', added.source));
            IF relation IS NOT NULL THEN
                PERFORM onemap.enable_tile_invalidation(relation, added.geometry_column);
            END IF;
        END LOOP;
    END IF;
    INSERT INTO onemap.tile_change (source, layers) VALUES ('layer', ids) RETURNING id INTO change_id;
    PERFORM pg_notify('onemap_tiles', json_build_object('id', change_id, 'source', 'layer', 'layers', ids)::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER layer_change_insert AFTER INSERT ON onemap.layer REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_layer_change();
CREATE OR REPLACE TRIGGER layer_change_update AFTER UPDATE ON onemap.layer
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_layer_change();
CREATE OR REPLACE TRIGGER layer_change_delete AFTER DELETE ON onemap.layer REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_layer_change();

-- The tables of the built-in layers.
SELECT onemap.enable_tile_invalidation(('onemap.' || t)::regclass)
FROM unnest(ARRAY['admin_area', 'building', 'enterprise', 'event', 'verification_issue']) AS t;
