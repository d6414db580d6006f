-- One layer of a vector tile, made in the database.
-- rows:     FROM ... WHERE ... of the layer's rows as the caller may see them (tiles/selection.py), including
--            the envelope test in the column's SRID so the GiST index does the work.
-- shape:    the geometry generalised for this zoom, in the SRID of the tile bounds (tiles/vector.py tile_frame).
-- columns:  the MVT feature id (when the id is an integer) and the fields, masked for the caller.
-- The tile envelope comes from morecantile (tiles/tms.py): ST_TileEnvelope only knows square quadtrees, and
-- WorldCRS84Quad / CGCS2000Quad start with 2x1 tiles.
WITH features AS (
    SELECT ST_AsMVTGeom(
               {shape},
               ST_MakeEnvelope(%(tile_xmin)s::float8, %(tile_ymin)s::float8, %(tile_xmax)s::float8,
                               %(tile_ymax)s::float8, %(tile_srid)s::int4),
               %(tile_extent)s::int4, %(tile_buffer)s::int4, true) AS mvt_geom
           {columns}
    FROM {rows}
)
-- The cap counts features that reach the tile (ST_AsMVTGeom is NULL for those that vanish in the buffer).
SELECT ST_AsMVT(capped.*, %(tile_layer)s::text, %(tile_extent)s::int4, 'mvt_geom'{id_name}) AS tile
FROM (SELECT * FROM features WHERE mvt_geom IS NOT NULL LIMIT %(tile_max_features)s::int8) AS capped
