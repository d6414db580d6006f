"""Static SQL of the declared-data intake."""

from functools import cache
from importlib.resources import files


@cache
def read_cleaning_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
