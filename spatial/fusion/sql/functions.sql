-- How fusion compares a verifying department's value with the authoritative one, per match kind of a rule.
-- IMMUTABLE single expressions so the planner inlines them into the set-based fusion statements.

-- The comparable form of a value: exact as sent; normalised = NFKC, no white space, lower case (full-width
-- letters and digits, stray spaces); phone = the last 11 digits (drops +86, dashes); number = the numeric value.
CREATE OR REPLACE FUNCTION onemap.fusion_normalise(value text, match text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE match
    WHEN 'exact' THEN value
    WHEN 'phone' THEN right(regexp_replace(normalize(value, NFKC), '[^0-9]', '', 'g'), 11)
    WHEN 'number' THEN CASE
        WHEN btrim(normalize(value, NFKC)) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN trim_scale(btrim(normalize(value, NFKC))::numeric)::text
        ELSE lower(regexp_replace(normalize(value, NFKC), '\s+', '', 'g'))
    END
    ELSE lower(regexp_replace(normalize(value, NFKC), '\s+', '', 'g'))
END;

-- Whether two comparable forms agree: equal, or for fuzzy rules a Levenshtein similarity of at least threshold.
CREATE OR REPLACE FUNCTION onemap.fusion_agrees(a text, b text, match text, threshold double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN a IS NOT DISTINCT FROM b OR (
    match = 'fuzzy' AND a IS NOT NULL AND b IS NOT NULL AND greatest(length(a), length(b)) > 0
    AND 1.0 - public.levenshtein(left(a, 255), left(b, 255))::double precision / greatest(length(a), length(b))
        >= coalesce(threshold, 0.85)
);

-- Departments type dates and numbers by hand: a value that does not parse is treated as absent, not as an error
-- that would abort a whole fusion run.
-- PARALLEL RESTRICTED: an exception block opens a subtransaction, which parallel workers may not.
CREATE OR REPLACE FUNCTION onemap.try_date(value text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED AS $$
BEGIN
    RETURN value::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION onemap.try_int(value text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN btrim(value) ~ '^-?[0-9]{1,9}$' THEN btrim(value)::integer END;
