"""The schema: migrations, constraints, history triggers, the append-only audit log."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from alembic.script import ScriptDirectory

from api.setup import initialise_database
from spatial.migrate import alembic_config, current_revision
from spatial.schema import VERSIONED_TABLES, metadata


def test_every_declared_table_exists(db: psycopg.Connection) -> None:
    found = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'onemap'")}
    declared = {t.name for t in metadata.sorted_tables}
    assert declared <= found
    assert {f"{t}_history" for t in VERSIONED_TABLES} <= found


def test_init_twice_is_a_no_op(database_url: str, db: psycopg.Connection) -> None:
    before = db.execute("SELECT count(*) FROM onemap.layer").fetchone()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert initialise_database(database_url) == head
    assert current_revision(database_url) == head
    assert db.execute("SELECT count(*) FROM onemap.layer").fetchone() == before


def test_spatial_indexes_exist(db: psycopg.Connection) -> None:
    indexed = {
        r[0]
        for r in db.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'onemap' AND indexdef LIKE '%USING gist%'"
        )
    }
    assert {"building", "admin_area", "enterprise", "event", "verification_issue"} <= indexed


def test_foreign_keys_and_checks_hold(db: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute(
            "INSERT INTO onemap.house_unit (building_id, unit_no, floor, room_no, area_m2, use) "
            "VALUES (-1, '1', 1, '101', 30, 'residential')"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE onemap.building SET floors = 0 WHERE id = 1")
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "INSERT INTO onemap.person (id_number, name, sex, birth_date, household_type) "
            "VALUES ('44030719900101123', 'x', 'M', '1990-01-01', 'local')"
        )


def test_update_keeps_the_previous_version(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        old = db.execute("SELECT floors, valid_from FROM onemap.building WHERE id = 2").fetchone()
        assert old is not None
        old_floors, old_from = old
        db.execute("SET LOCAL onemap.actor = 'tester'")
        db.execute("UPDATE onemap.building SET floors = floors + 1 WHERE id = 2")
        row = db.execute(
            "SELECT floors, valid_from, valid_to, operation, changed_by FROM onemap.building_history "
            "WHERE id = 2 ORDER BY valid_to DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        assert row[0] == old_floors and row[1] == old_from
        assert row[3] == "UPDATE" and row[4] == "tester"
        current = db.execute("SELECT valid_from FROM onemap.building WHERE id = 2").fetchone()
        assert current is not None
        assert current[0] == row[2]  # the new version starts where the old one ends


def test_audit_log_is_append_only(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        db.execute(
            "INSERT INTO onemap.audit_log (actor, role, action, target_kind) VALUES ('t', 'admin', 'read', 'x')"
        )
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute("DELETE FROM onemap.audit_log")


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        ("mask_name", "张三丰", "张**"),
        ("mask_phone", "13812345678", "138****5678"),
        ("mask_id_number", "11010519491231002X", "110105********002X"),
    ],
)
def test_sql_masking_matches_python(db: psycopg.Connection, function: str, value: str, masked: str) -> None:
    from spatial.identifiers import mask_id_number, mask_name, mask_phone

    python: dict[str, Callable[[str], str]] = {
        "mask_name": mask_name,
        "mask_phone": mask_phone,
        "mask_id_number": mask_id_number,
    }
    assert python[function](value) == masked
    in_sql = db.execute(f"SELECT onemap.{function}(%s)", [value]).fetchone()
    assert in_sql is not None and in_sql[0] == masked
