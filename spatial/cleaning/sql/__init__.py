"""Static SQL of the declared-data intake."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)
