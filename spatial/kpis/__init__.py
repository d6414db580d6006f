"""Figures for the wall, the workspaces and ``/kpis``: one SQL file per figure, registered by name, computed for
a scope (district, street, community, grid) at an instant or as a time series; the slow ones pre-aggregated per
grid and day."""

from spatial.kpis.aggregates import refresh_aggregates
from spatial.kpis.compute import FigureValue, bucket_ends, figure_at, figure_series, readable
from spatial.kpis.errors import OutsideScope
from spatial.kpis.registry import FIGURES, Figure, figure, register
from spatial.kpis.scope import Area, Scope, resolve_scope

__all__ = [
    "FIGURES",
    "Area",
    "Figure",
    "FigureValue",
    "OutsideScope",
    "Scope",
    "bucket_ends",
    "figure",
    "figure_at",
    "figure_series",
    "readable",
    "refresh_aggregates",
    "register",
    "resolve_scope",
]
