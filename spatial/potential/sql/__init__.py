"""Static SQL of the economic potential analysis."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)
