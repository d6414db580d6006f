SELECT to_char(coalesce(least((SELECT min(occurred_at) FROM onemap.event),
                              (SELECT min(valid_from) FROM onemap.building)), now()) AT TIME ZONE 'UTC',
               'YYYY-MM') AS first,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM') AS last
