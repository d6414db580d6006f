"""``onemap serve``: the web server (uvicorn), on the embedded database unless ONEMAP_DATABASE_URL is set."""

from __future__ import annotations

import os

import typer

from spatial.cluster import embedded_cluster_running
from spatial.settings import get_settings


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int | None = typer.Option(None, help="Worker processes (default ONEMAP_API_WORKERS: one per core)."),
    jobs: bool = typer.Option(True, help="Run the scheduled jobs (one worker leads, across replicas too)."),
    access_log: bool = typer.Option(True, help="Log every request (API keys in URLs are redacted)."),
) -> None:
    """Serve the API, tiles and map viewers.

    With two or more workers (the default) uvicorn's supervisor restarts a worker that crashed or stopped
    answering its health check while the others keep serving; workers are spawned, never forked.
    """
    import uvicorn

    from api.settings import get_api_settings
    from api.setup import initialise_database
    from spatial.database import database_url, libpq_url

    settings = get_settings()
    with embedded_cluster_running(settings):
        url = database_url(settings)
        initialise_database(url)
        # Worker processes read the URL from the environment, so all of them use this one database.
        os.environ["ONEMAP_DATABASE_URL"] = libpq_url(url)
        if jobs:
            from spatial.database import raw_connection
            from spatial.jobs import schedules

            with raw_connection(url) as conn:
                schedules(conn)  # a cron that does not parse stops the start here, naming its job
            os.environ["ONEMAP_JOBS_ENABLED"] = "true"
        typer.echo(f"onemap at http://{host}:{port}/ (map: /map, API: /api.html)")
        count = workers or get_api_settings().worker_count()
        uvicorn.run("api.main:app", host=host, port=port, workers=count, log_level="info",
                    access_log=access_log, timeout_worker_healthcheck=10,
                    proxy_headers=False)  # the app reads X-Forwarded-* itself (api.proxy)


def register(app: typer.Typer) -> None:
    app.command()(serve)
