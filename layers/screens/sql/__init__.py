"""Static SQL of the screens (the community workspace's sections and download)."""

from functools import cache
from importlib.resources import files


@cache
def read_screen_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
