SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north
FROM (SELECT ST_Extent(geom) AS e FROM onemap.admin_area WHERE level IN ('district', 'street')) AS s
