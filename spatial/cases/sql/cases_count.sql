-- How many cases match, counted up to %(cap)s + 1 (beyond that the list says "more than").
SELECT count(*) AS matched FROM (
    SELECT 1 FROM ({versions}) c WHERE {filter} LIMIT %(cap)s + 1
) counted
