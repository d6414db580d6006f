"""``onemap analysis density-raster``: the population density COG, optionally registered as a raster layer
(through ``onemap raster add``, so it gets the same catalog entry, roles and tiles as any raster)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

analysis_app = typer.Typer(help="Spatial analyses that write files.")


@analysis_app.command("density-raster")
def density_raster(
    output: Path = typer.Option(Path("population_density.tif"), help="Where to write the COG."),
    as_of: str = typer.Option("", help="Date (YYYY-MM-DD); default today."),
    cell_m: float = typer.Option(100.0, help="Cell size in metres (EPSG:4547)."),
    register: bool = typer.Option(False, "--register", help="Also register it as raster layer population_density."),
) -> None:
    """Rasterise residents per cell (persons per km²) as of a date."""
    from spatial.analysis import connect
    from spatial.analysis.density_raster import population_density_raster
    from spatial.analysis.viewer import ANALYST

    day = dt.date.fromisoformat(as_of) if as_of else None
    path = population_density_raster(connect(), ANALYST, output, day, cell_m)
    typer.echo(f"wrote {path}")
    if register:
        from api.cli.raster import add

        # Aggregated counts, but still about people: internal, owned by grid management.
        add(path, layer_id="population_density", title="人口密度 Population density", owner="grid",
            sensitivity="internal", readers="")


def register(app: typer.Typer) -> None:
    app.add_typer(analysis_app, name="analysis")
