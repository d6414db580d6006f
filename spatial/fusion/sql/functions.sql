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
-- that would abort a whole fusion run. Dates as records carry them: 2020-01-02, 2020-1-2 or 20200102 (checked
-- rows are normalised to the first; an ID number holds the last). No cast in an exception block: the
-- subtransaction such a block opens is refused anywhere in a parallel query ("cannot start subtransactions
-- during a parallel operation"), leader included. No regexp_match either: PostgreSQL's regex engine takes ~14 us
-- to hand back this pattern's groups against 0.4 us to test it, and fusion parses a date per person and record
-- (5.6 s of a small district's first run). A day past its month's end (2023-02-30) does not survive the addition.
CREATE OR REPLACE FUNCTION onemap.try_date(value text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    text_date text := btrim(value);
    month_day text;
    y int;
    m int;
    d int;
    parsed date;
BEGIN
    IF text_date !~ '^[0-9]{4}-?[0-9]{1,2}-?[0-9]{1,2}$' THEN
        RETURN NULL;
    END IF;
    y := left(text_date, 4)::int;
    month_day := ltrim(substr(text_date, 5), '-');
    IF strpos(month_day, '-') > 0 THEN
        m := split_part(month_day, '-', 1)::int;
        d := split_part(month_day, '-', 2)::int;
    ELSE  -- digits only: the month takes two of them when one or more is left for the day (20201231, 2020105)
        m := left(month_day, CASE WHEN length(month_day) >= 3 THEN 2 ELSE 1 END)::int;
        d := substr(month_day, CASE WHEN length(month_day) >= 3 THEN 3 ELSE 2 END)::int;
    END IF;
    IF y < 1 OR m NOT BETWEEN 1 AND 12 OR d NOT BETWEEN 1 AND 31 THEN
        RETURN NULL;
    END IF;
    parsed := make_date(y, m, 1) + (d - 1);
    RETURN CASE WHEN extract(day FROM parsed) = d THEN parsed END;
END
$$;

CREATE OR REPLACE FUNCTION onemap.try_int(value text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN btrim(value) ~ '^-?[0-9]{1,9}$' THEN btrim(value)::integer END;
