"""``onemap db start|stop|status|url`` and ``onemap init``: the database and its schema."""

from __future__ import annotations

import typer

from spatial.cluster import LocalCluster
from spatial.database import check_connection, database_url, redacted
from spatial.settings import get_settings

db_app = typer.Typer(help="The embedded PostGIS cluster (or the server of ONEMAP_DATABASE_URL).")


@db_app.command()
def start() -> None:
    """Initialise (first time) and start onemap's own PostGIS cluster."""
    settings = get_settings()
    if settings.database_url:
        check_connection(database_url(settings))
        typer.echo(f"using the server of ONEMAP_DATABASE_URL ({redacted(settings.database_url)})")
        return
    cluster = LocalCluster(settings)
    started = cluster.ensure_started()
    typer.echo(
        f"{'started' if started else 'already running'}: 127.0.0.1:{cluster.port()} ({cluster.pgdata})"
    )


@db_app.command()
def stop() -> None:
    """Stop the embedded cluster."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("ONEMAP_DATABASE_URL is set: that server is not onemap's to stop.")
        return
    LocalCluster(settings).stop()
    typer.echo("stopped")


@db_app.command()
def status() -> None:
    """Say whether the database is up."""
    settings = get_settings()
    if settings.database_url:
        check_connection(database_url(settings))
        typer.echo(f"external server reachable: {redacted(settings.database_url)}")
        return
    cluster = LocalCluster(settings)
    if not cluster.initialised:
        typer.echo(f"not initialised ({cluster.pgdata}); run `onemap db start`")
        raise typer.Exit(3)
    if cluster.is_running():
        typer.echo(f"running on 127.0.0.1:{cluster.port()} ({cluster.pgdata})")
    else:
        typer.echo(f"stopped ({cluster.pgdata})")
        raise typer.Exit(3)


@db_app.command()
def url() -> None:
    """Print the database URL (starting the embedded cluster if needed)."""
    typer.echo(database_url().replace("postgresql+psycopg://", "postgresql://"))


def init() -> None:
    """Create or upgrade the schema to the newest migration (a no-op when already there)."""
    from api.setup import initialise_database

    revision = initialise_database(database_url())
    typer.echo(f"schema at revision {revision}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("init")(init)
