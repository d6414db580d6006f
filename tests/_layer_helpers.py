"""Shared by test_uploads.py, test_thematic.py and test_downloads.py: an app client, keys per role,
uploads."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import psycopg
import pytest

DATA = Path(__file__).parent / "data"
REAL = Path(__file__).parents[2] / "shared" / "data" / "real"
HK = REAL / "china_other" / "hk_central_osm_buildings.geojson"
PRAGUE = REAL / "reference" / "momepy_bubenec_prague.gpkg"


def real_file(path: Path) -> Path:
    """A file of the real third-party data set, which sits in shared/ beside a checkout (not shipped: OSM data
    is ODbL); a checkout without it skips the test that needs it, saying why."""
    if not path.exists():
        pytest.skip(f"real third-party data not found at {path}")
    return path


ROLES = {
    "admin": ("admin", None, None),
    "water": ("department_editor", "water", None),
    "housing": ("department_editor", "housing", None),
    "police": ("department_editor", "police", None),
    "planner": ("planner", None, None),
}


def make_keys(url: str) -> dict[str, str]:
    from api.auth import create_key
    from spatial.database import engine_for

    keys: dict[str, str] = {}
    with engine_for(url).begin() as conn:
        for name, (role, department, grid) in ROLES.items():
            keys[name] = create_key(conn, f"test-layers-{name}", role, department, grid).key
    return keys


def upload(
    client: Any, key: str | None, content: bytes | Path, filename: str | None = None, **form: Any
) -> Any:
    if isinstance(content, Path):
        filename = filename or content.name
        content = content.read_bytes()
    headers = {"X-API-Key": key} if key else {}
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    data.setdefault("title", data.get("id", "layer"))
    return client.post(
        "/layers", headers=headers, data=data, files={"file": (filename or "upload.bin", io.BytesIO(content))}
    )


def assert_absent(db: psycopg.Connection, layer_id: str) -> None:
    """Nothing of a refused upload is left: no table, no history, no catalog row."""
    ids = [layer_id] + [f"{layer_id}_{kind}" for kind in ("points", "lines", "polygons")]
    tables = db.execute(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'onemap' AND relname = ANY(%s)",
        [[f"dept_{i}" for i in ids] + [f"dept_{i}_history" for i in ids]],
    ).fetchall()
    rows = db.execute("SELECT id FROM onemap.layer WHERE id = ANY(%s)", [ids]).fetchall()
    assert tables == [] and rows == []
