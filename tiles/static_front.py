"""Warm public tiles served by nginx straight from the disk cache, without Python.

No Python server comes near a static file server on the same two cores (onemap's warm path: 1,958 tiles/s,
nginx sending the same bytes: 31,259 tiles/s). So the cache also writes each anonymous, plain (no datetime, no
filter) vector tile of one layer as the gzip bytes the server would send, at a path nginx can compute from the
tile URL alone::

    <cache>/.public/<layer>  ->  <layer>@<version>      (a symlink, re-pointed when the layer changes)
    <cache>/<layer>@<version>/<tms>/<z>/<x>/<y>/public.mvt.gz

The file lives in the tile's own cell directory, so the purges that remove the cell at an edit (every process
purges it when its notification arrives) remove it too, and a redefined layer's new version leaves the symlink
pointing at a removed directory until its first tile is stored. nginx answers what it finds and hands every
other request (a key, a query, a miss, an empty tile) to onemap: ``nginx_site`` writes that configuration.
Empty tiles are not written (the server answers them 204 from its own cache).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tiles.compression import is_empty_tile

log = logging.getLogger("onemap.tiles.static_front")
PUBLIC_DIR = ".public"  # no layer id starts with a dot (spatial/schema.py's layer_id_format)
PUBLIC_FILE = "public.mvt.gz"


def publish(disk: Path, layer: str, layer_dir: str, cell: Path, body: bytes) -> None:
    """Write a public tile's gzip ``body`` into its cell directory (``layer_dir/<tms>/<z>/<x>/<y>``) and point
    the layer's public link at ``layer_dir``."""
    target = disk / cell / PUBLIC_FILE
    if is_empty_tile(body) or target.exists():  # a cell's file goes only with the cell: one there is current
        return
    try:
        temporary = target.with_name(f"{PUBLIC_FILE}.{os.getpid()}.tmp")
        temporary.write_bytes(body)
        os.replace(temporary, target)
        _point(disk / PUBLIC_DIR, layer, layer_dir)
    except FileNotFoundError:  # an edit's purge removed the cell meanwhile: nothing to publish
        return
    except OSError as exc:  # nginx then hands the tile to the server, which has it in its cache
        log.warning("tile cache: cannot publish %s (%s)", cell, exc)


def _point(public: Path, layer: str, layer_dir: str) -> None:
    link = public / layer
    wanted = os.path.join("..", layer_dir)
    try:
        if os.readlink(link) == wanted:
            return
    except OSError:
        public.mkdir(exist_ok=True)
    temporary = public / f".{layer}.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(wanted)
    os.replace(temporary, link)  # atomic: nginx sees the old or the new version, never no link


# The tile routes of api/routers/tiles.py (with the .mvt and .pbf spellings), their parts named for try_files.
TILE_PATH = (
    r"^/collections/(?<layer>[a-z][a-z0-9_]*)/tiles/(?<tms>[A-Za-z0-9_]+)"
    r"/(?<z>[0-9]+)/(?<x>[0-9]+)/(?<y>[0-9]+)(\.mvt|\.pbf)?$"
)
SITE = """\
# onemap behind nginx: warm public tiles from the disk cache, everything else from onemap.
# Written by `onemap tiles nginx`; include it in the http block of nginx.conf.
upstream onemap {{
    server {upstream};
    keepalive 32;
}}

map "$http_x_api_key$args" $onemap_anonymous_plain {{
    ""      1;
    default 0;
}}

server {{
    listen {listen};
    client_max_body_size 0;  # onemap enforces its own limits, with messages that say what to fix
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_buffering off;  # SSE streams and large downloads go out as onemap sends them
    proxy_read_timeout 1h;

    location ~ "{tile_path}" {{
        set $static $onemap_anonymous_plain;
        if ($http_accept_encoding !~ gzip) {{ set $static 0; }}
        if ($request_method !~ ^(GET|HEAD)$) {{ set $static 0; }}
        if ($static = 0) {{ rewrite ^ /onemap-app last; }}
        root {cache};
        try_files /{public_dir}/$layer/$tms/$z/$x/$y/{public_file} /onemap-app;
        types {{ }}
        default_type application/vnd.mapbox-vector-tile;
        add_header Content-Encoding gzip always;
        add_header Cache-Control "public, max-age={max_age}" always;
        add_header Vary "Accept-Encoding, X-API-Key" always;
        add_header X-Tile-Cache static always;
    }}

    location = /onemap-app {{
        internal;
        proxy_pass http://onemap$request_uri;
    }}

    location / {{
        proxy_pass http://onemap;
    }}
}}
"""


def nginx_site(cache: Path, upstream: str, listen: str, max_age: int) -> str:
    """The nginx server block for a onemap at ``upstream`` (host:port) whose disk cache is ``cache``."""
    return SITE.format(
        upstream=upstream, listen=listen, cache=cache.resolve(), tile_path=TILE_PATH, public_dir=PUBLIC_DIR,
        public_file=PUBLIC_FILE, max_age=max_age,
    )
