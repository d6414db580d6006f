"""Static SQL of the viewers: extent, time range, focused views, heatmaps."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)
