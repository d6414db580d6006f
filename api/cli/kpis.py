"""``onemap kpis refresh``: recount the figures' pre-aggregates where changes made them stale."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from spatial.database import database_url, raw_connection

kpis_app = typer.Typer(help="Figures for the wall and the workspaces (/kpis).")


@kpis_app.command("refresh")
def refresh(
    first: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Recount from this day on.")
    ] = None,
    last: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Up to this day (default tomorrow).")
    ] = None,
) -> None:
    """Recount the pre-aggregated figures (population, files, housing, ...) for the grids changes have made stale,
    and for the days from the newest held one (or --from) to tomorrow (or --to). The kpi_refresh job does it every
    minute; run it after large loads. Until then the figures count stale grids live (right, but slower)."""
    from spatial.kpis import refresh_aggregates

    with raw_connection(database_url()) as conn:
        done = refresh_aggregates(conn, first.date() if first else None, last.date() if last else None)
    for name, result in done.items():
        typer.echo(
            f"{name}: {result.grids} grids recounted ({result.rows} grid-days), {result.first_day} .. {result.last_day}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(kpis_app, name="kpis")
