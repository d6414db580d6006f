"""Every path reads user time through ``layers.query.temporal``: the same naive "as of" is the same instant
(Beijing time, UTC+8) in the feature server, tiles, viewers, downloads, restores, archives and the CLI."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from layers.access import Principal
from layers.builtin import BUILTIN_LAYERS
from layers.query.temporal import parse_as_of, parse_datetime
from layers.viewer.data import heat_query
from layers.viewer.settings import ViewerSettings
from spatial.errors import InvalidInput
from tiles.query import TileQuery
from tiles.selection import visible_rows

NAIVE = "2024-01-01T08:00:00"
INSTANT = dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC)  # 08:00 in Beijing
ROOT = Path(__file__).resolve().parent.parent
BUILDINGS = next(layer for layer in BUILTIN_LAYERS if layer.id == "buildings")  # versioned: as-of SQL


def test_every_path_reads_a_naive_time_as_beijing_time() -> None:
    features = parse_datetime(NAIVE)  # api/dependencies/features.py, tiles/selection.py, CQL2 literals
    assert features.start == features.end == INSTANT
    assert parse_as_of(NAIVE) == INSTANT  # downloads, restores, archives, `onemap layer download --as-of`
    _, events = heat_query("events", NAIVE, None, ViewerSettings())  # the viewer's heatmap
    assert events["end"] == INSTANT
    _, population = heat_query("population", "2024-01-01T07:00:00", None, ViewerSettings())
    assert population["at"] == dt.date(2024, 1, 1)  # 23:00 UTC the day before is already 1 January in Beijing


def test_tiles_bind_the_same_instant() -> None:
    layer_rows = visible_rows(BUILDINGS, Principal("admin"), TileQuery(datetime=NAIVE))
    assert INSTANT in layer_rows.params.values.values()


def test_a_date_as_of_is_the_end_of_that_day_in_beijing() -> None:
    end = dt.datetime(2024, 5, 1, 15, 59, 59, 999999, tzinfo=dt.UTC)
    assert parse_as_of("2024-05-01") == parse_datetime("2024-05-01").end == end
    assert parse_as_of(None) is None and parse_as_of("..") is None
    with pytest.raises(InvalidInput, match="one instant"):
        parse_as_of("2024-01-01/2024-02-01")
    with pytest.raises(InvalidInput, match="RFC 3339"):
        parse_as_of("soon")


def test_no_other_module_parses_user_time() -> None:
    """A second parser is how the 8-hour disagreement came about: only temporal.py may call fromisoformat."""
    home = ROOT / "layers" / "query" / "temporal.py"
    others = []
    for package in ("api", "layers", "tiles"):
        for path in (p for p in (ROOT / package).rglob("*.py") if p != home):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                on_date = isinstance(node, ast.Attribute) and getattr(node.value, "attr", None) == "date"
                if isinstance(node, ast.Attribute) and node.attr == "fromisoformat" and not on_date:
                    others.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert others == []
