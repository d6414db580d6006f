-- Low zooms of a polygon layer with a grid column: per-grid statistics drawn on the grid polygons instead of
-- features (a z10 tile over 170k buildings would otherwise be megabytes of sub-pixel polygons).
-- rows:     FROM ... WHERE ... of the layer's rows as the caller may see them, restricted to the grids that
--            touch the tile, so that every grid drawn carries its whole count.
-- grid:     the layer's grid column; averages: ", avg(x) AS x_mean" for the visible numeric fields.
WITH stats AS (
    SELECT {grid} AS grid_code, count(*)::int4 AS feature_count {averages}
    FROM {rows}
    GROUP BY 1
), features AS (
    SELECT ST_AsMVTGeom(
               {shape},
               ST_MakeEnvelope(%(tile_xmin)s::float8, %(tile_ymin)s::float8, %(tile_xmax)s::float8,
                               %(tile_ymax)s::float8, %(tile_srid)s::int4),
               %(tile_extent)s::int4, %(tile_buffer)s::int4, true) AS mvt_geom,
           stats.*, area.name AS grid_name
    FROM stats JOIN onemap.admin_area AS area ON area.code = stats.grid_code
)
SELECT ST_AsMVT(features.*, %(tile_layer)s::text, %(tile_extent)s::int4, 'mvt_geom') AS tile
FROM features
WHERE mvt_geom IS NOT NULL
