(SELECT s.at AS occurred_at, d.building_id, s.key_kind, s.person_key, s.confidence::real AS confidence
 FROM door_parsed s JOIN onemap.door_device d ON d.code = s.device)
