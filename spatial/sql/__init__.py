"""Static SQL, kept in ``.sql`` files beside the code that runs it. ``sql_reader`` is the one way to read them:
each package's ``sql`` folder binds ``read_sql = sql_reader(__name__)``; this one holds the core schema's."""

from collections.abc import Callable
from functools import cache
from importlib.resources import files


def sql_reader(package: str) -> Callable[[str], str]:
    """``read_sql(name)`` for the ``.sql`` files of `package` (read once per process)."""

    @cache
    def read_sql(name: str) -> str:
        return files(package).joinpath(name).read_text(encoding="utf-8")

    return read_sql


read_sql = sql_reader(__name__)
