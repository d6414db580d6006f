"""Static SQL of the monitoring rules."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)
