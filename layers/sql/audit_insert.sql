-- One audit row (the table's trigger refuses updates and deletes: the log is append-only).
INSERT INTO onemap.audit_log (actor, role, action, target_kind, target_id, detail)
VALUES (%(actor)s, %(role)s, %(action)s, %(kind)s, %(target)s, %(detail)s)
