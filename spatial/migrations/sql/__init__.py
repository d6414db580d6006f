"""SQL as a migration installed it, kept here unchanged so that upgrading from that revision stays the same after
the code that uses it has moved on."""

from functools import cache
from importlib.resources import files


@cache
def read_migration_sql(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
