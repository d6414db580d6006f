-- De-identification in SQL: the same rules as spatial/identifiers/masking.py, character for character.
-- Row filters and column masks run in the database (DESIGN.md, "Access control"), so these must give
-- exactly what the Python functions give; tests/test_identifiers.py pins the Python side.
--
-- LANGUAGE sql, IMMUTABLE, not STRICT and a single expression: the planner can then inline the body into the
-- calling query instead of making a function call per row. NULL in gives NULL out because every branch
-- applies length()/left()/repeat() to the NULL value. length/left/right count characters (code points), as
-- Python's len and slicing do.

-- 张三丰 -> 张**: the first character kept, one star per following character; a one-character name unchanged.
CREATE OR REPLACE FUNCTION onemap.mask_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN left(name, 1) || repeat('*', length(name) - 1);

-- 13812345678 -> 138****5678: first 3 and last 4 kept when at least 8 characters, else all starred.
CREATE OR REPLACE FUNCTION onemap.mask_phone(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN length(phone) >= 8 THEN left(phone, 3) || repeat('*', length(phone) - 7) || right(phone, 4)
    ELSE repeat('*', length(phone))
END;

-- 11010519491231002X -> **************002X with the defaults: the area code goes too, since beside the birth
-- year and sex that a masked file still shows, area + sequence + check character leave a few dozen candidates
-- for the whole number (both are quasi-identifiers). Negative counts mean 0 (mask more, never
-- less); when the kept parts would cover the whole value, everything is starred. left(x, 0) and right(x, 0)
-- are ''; the greatest() calls matter because left/right with a negative count drop characters instead.
CREATE OR REPLACE FUNCTION onemap.mask_id_number(id_number text, keep_prefix int DEFAULT 0, keep_suffix int DEFAULT 4)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN length(id_number) <= greatest(keep_prefix, 0) + greatest(keep_suffix, 0)
        THEN repeat('*', length(id_number))
    ELSE left(id_number, greatest(keep_prefix, 0))
        || repeat('*', length(id_number) - greatest(keep_prefix, 0) - greatest(keep_suffix, 0))
        || right(id_number, greatest(keep_suffix, 0))
END;
