"""``onemap fuse``, ``onemap declarations import FILE`` and ``onemap monitor``: multi-source verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from spatial.database import database_url, raw_connection


def fuse(
    rules: Annotated[
        Path | None, typer.Option(help="A rule file instead of the packaged rules.yaml.")
    ] = None,
    measure: Annotated[
        bool, typer.Option(help="Also report precision and recall against planted ones.")
    ] = False,
) -> None:
    """Fuse new or changed source records into the archives and open verification issues (incremental)."""
    from spatial.fusion import load_rule_file, measure_against_planted, run_fusion

    with raw_connection(database_url()) as conn:
        report = run_fusion(conn, load_rule_file(rules) if rules else None)
        for error in report.rule_errors:
            typer.secho(f"rule skipped: {error}", fg=typer.colors.YELLOW, err=True)
        for rejection in report.rejections:
            typer.secho(
                f"record {rejection['source_record_id']} rejected: {rejection['reason']}",
                fg=typer.colors.YELLOW,
                err=True,
            )
        counts = {k: v for k, v in report.as_dict().items() if k not in ("rule_errors", "rejections")}
        typer.echo(json.dumps(counts, ensure_ascii=False))
        if measure:
            typer.echo(str(measure_against_planted(conn)))


def import_declarations(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Excel (.xlsx) declarations.")
    ],
    batch: Annotated[str | None, typer.Option(help="Name of this batch (default: the file name).")] = None,
    kind: Annotated[
        str, typer.Option(help="person (residents) or business (shops at an address).")
    ] = "person",
) -> None:
    """Clean, validate and match a declaration file; prints the per-row errors and the findings."""
    from spatial.cleaning import import_declarations as run_import

    with raw_connection(database_url()) as conn:
        result = run_import(conn, file, batch or file.name, kind)
    for error in result.errors:
        typer.secho(f"row {error.row_no}: {error.message}", fg=typer.colors.YELLOW, err=True)
    typer.echo(json.dumps(result.summary(), ensure_ascii=False))


def monitor() -> None:
    """Run the monitoring rules over the archives; new hits become warnings for the grid workers, and cases.
    (The scheduler runs the same as the job "monitoring".)"""
    from spatial.jobs.builtin import monitoring

    with raw_connection(database_url(), autocommit=True) as conn:
        counts = monitoring(conn)
    typer.echo(json.dumps(counts, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command()(fuse)
    app.command()(monitor)
    declarations = typer.Typer(help="Citizen declarations and questionnaires.")
    declarations.command("import")(import_declarations)
    app.add_typer(declarations, name="declarations")
