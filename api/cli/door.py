"""``onemap door-access generate | devices FILE | import FILE | rules``: urban-village gate (视频门禁) data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spatial.database import database_url, raw_connection

door_app = typer.Typer(help="Door-access (视频门禁) events: generate, import, evaluate the rules.")
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A UTF-8 CSV file.")]


@door_app.command("generate")
def generate(
    days: Annotated[int, typer.Option(min=8, max=366, help="Days of events, ending now.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    gate_share: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Share of urban villages with gates.")
    ] = 0.3,
) -> None:
    """Gates, events consistent with residences, and planted anomalies (replaces earlier door-access data)."""
    from spatial.door_access.generate import DoorPlan, generate_door_access

    with raw_connection(database_url()) as conn:
        report = generate_door_access(conn, seed, DoorPlan(days=days, gate_share=gate_share))
    typer.echo(json.dumps(report))


@door_app.command("devices")
def devices(file: CsvFile) -> None:
    """Register gates from a CSV with columns code,building,name (building = building code)."""
    from spatial.door_access.store import import_devices

    with raw_connection(database_url()) as conn:
        typer.echo(json.dumps(import_devices(conn, file)))


@door_app.command("import")
def import_file(file: CsvFile) -> None:
    """Import events (device,occurred_at,direction,key_kind,person_key,confidence); all rows or none."""
    from spatial.door_access.store import import_events

    with raw_connection(database_url()) as conn:
        typer.echo(json.dumps(import_events(conn, file)))


@door_app.command("rules")
def rules(
    measure: Annotated[
        bool, typer.Option(help="Also report precision and recall against planted ones.")
    ] = False,
) -> None:
    """Evaluate the door-access rules now: hits become warnings, then cases for the grid."""
    from spatial.cases import open_cases_from_warnings
    from spatial.door_access.rules import measure_against_planted, run_door_rules

    with raw_connection(database_url()) as conn:
        report = {**run_door_rules(conn), "cases": open_cases_from_warnings(conn)["opened"]}
        typer.echo(json.dumps(report))
        if measure:
            typer.echo(json.dumps(measure_against_planted(conn)))


def register(app: typer.Typer) -> None:
    app.add_typer(door_app, name="door-access")
