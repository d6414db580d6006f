"""Static SQL of the tile server, kept in ``.sql`` files beside this module."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)
