"""The figures' SQL: one file per figure, plus the pre-aggregates' refresh and triggers."""

from functools import cache
from importlib.resources import files


@cache
def read_kpi_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
