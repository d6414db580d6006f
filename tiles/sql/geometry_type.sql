-- The declared geometry type of a layer's column ('POLYGON', 'MULTIPOLYGON', 'POINT', ... or 'GEOMETRY'), from
-- the column's type modifier: reading the geometry_columns view instead costs 20 ms, more than an edit itself.
SELECT upper(postgis_typmod_type(atttypmod)) AS type
FROM pg_attribute
WHERE attrelid = to_regclass(format('onemap.%%I', %(table)s::text)) AND attname = %(column)s AND NOT attisdropped
