"""Static SQL of door access."""

from functools import cache
from importlib.resources import files


@cache
def read_door_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
