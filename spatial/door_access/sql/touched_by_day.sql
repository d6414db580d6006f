-- Every (day, building) pair with events on one day (a rebuild of that day's aggregates).
INSERT INTO door_touched
SELECT DISTINCT %(day)s::date, building_id
FROM onemap.door_access_event
WHERE occurred_at >= %(from)s AND occurred_at < %(to)s
