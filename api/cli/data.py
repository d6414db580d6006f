"""``onemap generate`` and ``onemap demo``: the sample district."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from spatial.database import database_url


def generate(
    scale: str = typer.Option(
        "small", help="tiny (tests), small (demo, 1/20 of Longgang) or full (Longgang)."
    ),
    seed: int = typer.Option(42, help="Same seed, same district."),
    disagreement_rate: float = typer.Option(0.02, help="Share of verifying source values made to disagree."),
    as_deliveries: Path | None = typer.Option(
        None,
        "--as-deliveries",
        help="Instead of loading, write the departments' delivery files and the answer key into this folder.",
        file_okay=False,
    ),
    key_damage_rate: float = typer.Option(
        0.02, help="With --as-deliveries or --from-deliveries: share of verifying departments' keys sent missing "
        "or garbled."
    ),
    from_deliveries: bool = typer.Option(
        False,
        "--from-deliveries",
        help="Write the departments' files, deliver them and let fusion make the archives (as a real district's "
        "data arrives), instead of copying the generated archives in.",
    ),
) -> None:
    """Generate the synthetic Longgang district and bulk-load it (resumes an interrupted load), build it from the
    departments' deliveries (--from-deliveries), or only write those delivery files with an answer key
    (--as-deliveries DIR; no database needed)."""
    from api.setup import initialise_database
    from spatial.district.load_district import load_district, write_district_deliveries

    if as_deliveries is not None:
        started = time.perf_counter()
        files = write_district_deliveries(
            as_deliveries, scale, seed, disagreement_rate, key_damage_rate
        )
        seconds = time.perf_counter() - started
        for name, rows in files.items():
            typer.echo(f"{name}: {rows:,} rows")
        typer.echo(f"wrote {len(files)} delivery files and the answer key to {as_deliveries} in {seconds:.1f} s")
        return
    url = database_url()
    initialise_database(url)
    started = time.perf_counter()
    if from_deliveries:
        _born(url, scale, seed, disagreement_rate, key_damage_rate)
        return
    written = load_district(url, scale, seed, disagreement_rate)
    seconds = time.perf_counter() - started
    rows = sum(written.values())
    summary = ", ".join(f"{table} {count:,}" for table, count in written.items()) or "nothing new"
    typer.echo(f"loaded in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s): {summary}")


def _born(url: str, scale: str, seed: int, disagreement_rate: float, key_damage_rate: float) -> None:
    from spatial.district.born import born_district
    from spatial.settings import get_settings

    name = f"{scale}-seed{seed}-rate{disagreement_rate}-keys{key_damage_rate}"
    folder = get_settings().data_dir / "deliveries" / name
    report = born_district(url, folder, scale, seed, disagreement_rate, key_damage_rate, announce=typer.echo)
    if not report.files:
        return  # already born: born_district said so
    created = ", ".join(f"{k.removeprefix('created_').replace('_', ' ')} {v:,}" for k, v in report.created.items())
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
    typer.echo(
        f"born from {report.files} delivery files ({report.delivered_rows:,} rows accepted, "
        f"{report.rejected_rows:,} rejected): {created or 'nothing new'}; {timings}"
    )


def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    load_only: bool = typer.Option(False, "--load-only", help="Stop after loading the district."),
    from_deliveries: bool = typer.Option(
        True,
        "--from-deliveries/--generated-archives",
        help="The district born from its departments' deliveries (default), or its generated archives copied in.",
    ),
) -> None:
    """Start the platform with the `small` district loaded (database, schema, data, then the server)."""
    from api.cli.serve import serve
    from spatial.cluster import embedded_cluster_running
    from spatial.settings import get_settings

    # Held around both steps: the cluster stops with the demo if the demo started it.
    with embedded_cluster_running(get_settings()):
        generate(
            scale="small",
            seed=42,
            disagreement_rate=0.02,
            as_deliveries=None,
            key_damage_rate=0.02,
            from_deliveries=from_deliveries,
        )
        if not load_only:
            serve(host=host, port=port, workers=None)


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(demo)
