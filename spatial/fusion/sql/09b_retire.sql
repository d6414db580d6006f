-- Retirement: a person the police register as moved out or deceased, or whom the residence survey's authority
-- reports moved out, leaves their home today: the open residence periods end, so the history stays and "as of"
-- an earlier date still shows them there. (Deregistered enterprises keep their file with status
-- 'deregistered', written by 08_archive; the previous version stays in enterprise_history.)
WITH leaving AS (
    SELECT DISTINCT p.id AS person_id
    FROM fusion_latest l
    JOIN onemap.person p ON p.id_number = l.entity_key::bpchar
    WHERE l.entity_kind = 'person' AND l.payload ->> 'status' IN ('moved_out', 'deceased')
      AND (l.department IN (SELECT department FROM fusion_creator WHERE entity_kind = 'person')
           OR l.department IN (SELECT department FROM fusion_rule_now
                               WHERE entity_kind = 'person' AND attribute = 'room_no' AND is_authority))
), closed AS (
    UPDATE onemap.residence r SET valid_to = greatest(current_date, r.valid_from + 1)
    FROM leaving g
    WHERE r.person_id = g.person_id AND r.valid_to IS NULL
    RETURNING 1
)
SELECT count(*) AS retired_residences FROM closed;
