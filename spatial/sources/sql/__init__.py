"""Static SQL of the source catalogue and deliveries."""

from functools import cache
from importlib.resources import files


@cache
def read_sources_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
