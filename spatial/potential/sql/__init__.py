"""Static SQL of the economic potential analysis."""

from functools import cache
from importlib.resources import files


@cache
def read_potential_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
