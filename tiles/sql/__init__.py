"""Static SQL of the tile server, kept in ``.sql`` files beside this module."""

from functools import cache
from importlib.resources import files


@cache
def read_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
