(SELECT occurred_at, building_id, key_kind, person_key, confidence FROM onemap.door_access_event
 WHERE occurred_at >= %(from)s AND occurred_at < %(to)s)
