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
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Up to this day (default today).")
    ] = None,
) -> None:
    """Recount population per grid and day from the earliest stale day (or --from) to today (or --to). Run it
    daily and after large loads; until then the figures count stale days live (right, but slower)."""
    from spatial.kpis import refresh_population

    with raw_connection(database_url()) as conn:
        done = refresh_population(conn, first.date() if first else None, last.date() if last else None)
    typer.echo(f"population: {done.rows} grid-days recounted, {done.first_day} .. {done.last_day}")


def register(app: typer.Typer) -> None:
    app.add_typer(kpis_app, name="kpis")
