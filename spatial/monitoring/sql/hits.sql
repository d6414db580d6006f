-- What the rules find now, one row per subject: (rule, subject, building, severity, description, detail).
CREATE TEMP TABLE monitor_hit (
    rule text, subject_key text, building_id bigint, severity smallint, description text, detail jsonb
) ON COMMIT DROP;
