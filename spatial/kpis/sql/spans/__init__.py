"""Each pre-aggregated figure's spans: what it counts, where and from when to when (see ../span_values.sql)."""
