-- Residents living in each cell (about 200 m) as of a date; aggregated, never per person or building.
SELECT ST_Y(cell) AS lat, ST_X(cell) AS lon, n
FROM (
    SELECT ST_SnapToGrid(ST_PointOnSurface(b.geom), %(cell)s) AS cell, count(*) AS n
    FROM onemap.residence r
    JOIN onemap.building b ON b.id = r.building_id
    WHERE r.valid_from <= %(at)s::date AND (r.valid_to IS NULL OR r.valid_to > %(at)s::date)
      AND (%(grids)s::text[] IS NULL OR b.grid_code = ANY(%(grids)s::text[]))
    GROUP BY 1
) AS cells
