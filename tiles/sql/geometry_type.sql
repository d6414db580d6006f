-- The declared geometry type of a layer's column ('POLYGON', 'MULTIPOLYGON', 'POINT', ... or 'GEOMETRY').
SELECT type FROM geometry_columns
WHERE f_table_schema = 'onemap' AND f_table_name = %(table)s AND f_geometry_column = %(column)s
