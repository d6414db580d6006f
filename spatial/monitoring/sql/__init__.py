"""Static SQL of the monitoring rules."""

from functools import cache
from importlib.resources import files


@cache
def read_monitoring_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
