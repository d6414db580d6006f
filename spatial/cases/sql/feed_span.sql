-- The ids the feed still holds (pruned rows are gone: a client behind them must reload).
SELECT coalesce(min(id), 0) AS first, coalesce(max(id), 0) AS last FROM onemap.change_feed
