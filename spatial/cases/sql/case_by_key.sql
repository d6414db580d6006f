SELECT id FROM onemap.service_case WHERE reporter = %(reporter)s AND idempotency_key = %(idempotency_key)s
