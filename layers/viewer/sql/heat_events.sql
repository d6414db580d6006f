-- Events per cell (about 200 m) within a period, weighted by severity.
SELECT ST_Y(cell) AS lat, ST_X(cell) AS lon, n
FROM (
    SELECT ST_SnapToGrid(geom, %(cell)s) AS cell, sum(severity) AS n
    FROM onemap.event
    WHERE occurred_at >= %(start)s AND occurred_at <= %(end)s
      AND (%(grids)s::text[] IS NULL OR grid_code = ANY(%(grids)s::text[]))
    GROUP BY 1
) AS cells
