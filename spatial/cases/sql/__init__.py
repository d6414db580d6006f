"""Static SQL of the case workflow."""

from functools import cache
from importlib.resources import files


@cache
def read_case_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
