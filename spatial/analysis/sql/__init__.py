"""Static SQL of the analyses. ``asof.sql`` is the shared prelude (a WITH list of the tables as of a date, with
the viewer's grid filter); each query file continues it, starting with ``SELECT`` or with ``, name AS (``."""

from spatial.sql import sql_reader

read_sql = sql_reader(__name__)


def as_of_query(*names: str) -> str:
    """The prelude followed by the files `names`: one statement, every value a bound parameter."""
    return "\n".join((read_sql("asof.sql"), *(read_sql(name) for name in names)))
