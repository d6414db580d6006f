"""Departments feed onemap: the source catalogue (三张清单), deliveries in the departments' own formats, push
batches and pulls, each checked row by row and copied into ``onemap.source_record``."""
