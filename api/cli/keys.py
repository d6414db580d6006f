"""``onemap keys create|list|revoke``: API keys and the role, department and grid each one carries."""

from __future__ import annotations

import sqlalchemy as sa
import typer

from api.auth import create_key
from spatial.database import get_engine
from spatial.errors import InvalidInput

keys_app = typer.Typer(help="API keys: each maps to a role, a department and a grid scope.")


@keys_app.command("create")
def create(
    label: str = typer.Option(..., help="Who or what the key is for."),
    role: str = typer.Option(
        ..., help="admin, planner, department_editor, grid_worker, community_operator, street_operator or public."
    ),
    department: str | None = typer.Option(None, help="The department (required for department_editor)."),
    grid: str | None = typer.Option(None, help="The grid code (required for grid_worker)."),
    area: str | None = typer.Option(
        None, help="The community code (community_operator) or street code (street_operator)."
    ),
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    with get_engine().begin() as conn:
        created = create_key(conn, label, role, department, grid, area)
    typer.echo(f"key {created.id} ({role}): {created.key}")


@keys_app.command("list")
def list_keys() -> None:
    """List keys (never the keys themselves)."""
    with get_engine().connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, label, role, department, coalesce(grid_code, area_code) AS grid_code, created_at, "
                "revoked_at FROM onemap.api_key ORDER BY id"
            )
        ).all()
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        typer.echo(
            f"{row.id}\t{row.label}\t{row.role}\t{row.department or '-'}\t{row.grid_code or '-'}\t{state}"
        )


@keys_app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="The key's id (from `onemap keys list`).")) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    with get_engine().begin() as conn:
        done = conn.execute(
            sa.text(
                "UPDATE onemap.api_key SET revoked_at = now() WHERE id = :id "
                "AND revoked_at IS NULL RETURNING id"
            ),
            {"id": key_id},
        ).first()
    if done is None:
        raise InvalidInput(f"no active key with id {key_id}: `onemap keys list` shows them")
    typer.echo(f"key {key_id} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
