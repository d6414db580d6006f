"""``onemap tiles seed LAYER --zoom 10-16 --bbox W,S,E,N --out FILE.pmtiles|.mbtiles``: offline packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

tiles_app = typer.Typer(help="Vector and raster tiles: offline packages, the nginx front.")
LONGGANG = "114.05,22.55,114.40,22.85"


@tiles_app.command()
def seed(
    layer: Annotated[str, typer.Argument(help="Layer id (see GET /collections).")],
    out: Annotated[Path, typer.Option(help="Output file: .pmtiles or .mbtiles (re-run to resume).")],
    zoom: str = typer.Option("10-16", help="Zoom range, e.g. 10-16."),
    bbox: str = typer.Option(LONGGANG, help="west,south,east,north in degrees (default: Longgang)."),
    role: str = typer.Option("public", help="Whose view to package (masks and row filters of that role)."),
    filter: str | None = typer.Option(None, help="CQL2 filter, as for features."),
    workers: int = typer.Option(2, help="Database connections rendering in parallel."),
) -> None:
    """Render a layer's Web Mercator tiles into an offline package, with a progress bar; resumable."""
    from tqdm import tqdm

    from layers.access import Principal
    from layers.catalog import get_layer
    from spatial.database import database_url, engine_for, libpq_url
    from tiles.query import TileQuery
    from tiles.seed import SeedPlan, parse_bbox, parse_zooms
    from tiles.seed import seed as run_seed

    url = database_url()
    if role not in ("public", "planner", "admin"):
        raise typer.BadParameter("use public, planner or admin (grid and department views need their key)")
    who = Principal(role, actor="cli:tiles-seed")
    with engine_for(url).connect() as conn:
        found = get_layer(conn, layer, who)
    plan = SeedPlan(found, parse_zooms(zoom), parse_bbox(bbox), out, who, TileQuery.of(None, filter, None))
    with tqdm(total=plan.count(), unit="tile", desc=f"{layer} z{zoom}") as bar:
        written = run_seed(libpq_url(url), plan, bar.update, workers=max(1, workers))
    typer.echo(f"{out}: {written} tiles written this run")


@tiles_app.command()
def nginx(
    upstream: str = typer.Option("127.0.0.1:8000", help="host:port of `onemap serve`."),
    listen: str = typer.Option("8080", help="What nginx listens on (port, or address:port)."),
    out: Path | None = typer.Option(None, help="Write the server block here instead of printing it."),
) -> None:
    """The nginx server block that sends warm public tiles from onemap's disk cache and the rest to onemap.
    Run onemap with ONEMAP_TILES_STATIC_FRONT=true so that the cache writes those tiles."""
    from tiles.settings import cache_dir, get_tile_settings
    from tiles.static_front import nginx_site

    site = nginx_site(cache_dir(), upstream, listen, get_tile_settings().max_age)
    if out is None:
        typer.echo(site, nl=False)
        return
    out.write_text(site)
    typer.echo(f"{out}: include it in nginx's http block; start onemap with ONEMAP_TILES_STATIC_FRONT=true")


def register(app: typer.Typer) -> None:
    app.add_typer(tiles_app, name="tiles")
