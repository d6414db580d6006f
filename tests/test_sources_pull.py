"""Pull: a department's own PostgreSQL database and an OGC API Features collection (a real onemap over HTTP) read
incrementally above the item's high-water mark, each run one checked delivery; a source that is down or
misconfigured is recorded with its next try (backoff) and never shows its credentials."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import uvicorn
from psycopg.types.json import Jsonb

from api.main import create_app
from spatial.database import libpq_url
from spatial.sources.pull import pull_sources
from spatial.sources.settings import get_sources_settings
from tests.conftest import create_database
from tests.test_features_clients import free_port

DSN_ENV = "ONEMAP_PULL_TEST_POLICE"


def _item(db: psycopg.Connection, department: str, kind: str) -> int:
    row = db.execute(
        "SELECT id FROM onemap.source_item WHERE department = %s AND entity_kind = %s ORDER BY id LIMIT 1",
        (department, kind),
    ).fetchone()
    assert row is not None, f"the default catalogue has no {department} {kind} item"
    return int(row[0])


@pytest.fixture
def pull_item(db: psycopg.Connection) -> Iterator[Any]:
    """Gives a catalogue item a pull source for one test; afterwards removes the source and what it delivered
    (other modules count the session database's records)."""
    changed: list[int] = []

    def configure(department: str, kind: str, pull: dict[str, Any]) -> int:
        item = _item(db, department, kind)
        db.execute(
            "UPDATE onemap.source_item SET pull = %s, pull_mark = NULL, pull_state = '{}' WHERE id = %s",
            (Jsonb(pull), item),
        )
        db.commit()
        changed.append(item)
        return item

    yield configure
    db.rollback()
    for item in changed:
        db.execute("DELETE FROM onemap.source_record WHERE delivery_id IN "
                    "(SELECT id FROM onemap.source_delivery WHERE item_id = %s AND channel = 'pull')", (item,))
        db.execute("DELETE FROM onemap.source_delivery WHERE item_id = %s AND channel = 'pull'", (item,))
        db.execute(
            "UPDATE onemap.source_item SET pull = NULL, pull_mark = NULL, pull_state = '{}' WHERE id = %s", (item,)
        )
    db.commit()


@pytest.fixture
def police_system(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[psycopg.Connection]:
    """The police's own household-register database (Chinese column names), its DSN in an environment variable."""
    url = libpq_url(create_database(empty_database_url, "police_system"))
    monkeypatch.setenv(DSN_ENV, url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE hukou (公民身份号码 text, 姓名 text, 性别 text, 出生日期 date, 楼栋编码 text, 房号 text, "
            "updated_at timestamptz NOT NULL)"
        )
        yield conn


def _residents(db: psycopg.Connection, count: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT p.id_number, p.name, p.sex, p.birth_date FROM onemap.person p ORDER BY p.id LIMIT %s", (count,)
    ).fetchall()


def _add(system: psycopg.Connection, rows: list[tuple[Any, ...]], at: dt.datetime) -> None:
    for number, name, sex, birth in rows:
        system.execute(
            "INSERT INTO hukou VALUES (%s, %s, %s, %s, NULL, NULL, %s)",
            (number, name, "男" if sex == "M" else "女", birth, at),
        )


def _delivered(db: psycopg.Connection, item: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT d.id, d.rows, d.accepted, d.rejected, d.report, (SELECT count(*) FROM onemap.source_record r "
        "WHERE r.delivery_id = d.id) FROM onemap.source_delivery d WHERE d.item_id = %s AND d.channel = 'pull' "
        "ORDER BY d.id",
        (item,),
    ).fetchall()


def test_a_department_database_is_pulled_above_its_mark(
    db: psycopg.Connection, police_system: psycopg.Connection, pull_item: Any
) -> None:
    item = pull_item(
        "police", "person", {"kind": "postgresql", "dsn_env": DSN_ENV, "query": "SELECT * FROM hukou",
                             "mark": "updated_at"},
    )
    residents = _residents(db, 4)
    first = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    _add(police_system, residents[:2], first)
    bad_number = residents[2][0][:17] + ("0" if residents[2][0][17] != "0" else "1")
    _add(police_system, [(bad_number, *residents[2][1:])], first + dt.timedelta(hours=1))

    outcome = pull_sources(db, item)
    assert outcome["failed"] == [] and outcome["pulled"][0]["rows"] == 3
    [(_, rows, accepted, rejected, report, records)] = _delivered(db, item)
    assert (rows, accepted, rejected, records) == (3, 2, 1, 2)
    assert "check" in report["rejections"][0]["reason"]  # the wrong check character, said so
    mark = db.execute("SELECT pull_mark, pull_state FROM onemap.source_item WHERE id = %s", (item,)).fetchone()
    assert mark is not None and dt.datetime.fromisoformat(mark[0]) == first + dt.timedelta(hours=1)
    assert mark[1]["ok"] is True

    assert pull_sources(db, item)["pulled"][0]["rows"] == 0  # nothing new: no delivery
    assert len(_delivered(db, item)) == 1

    _add(police_system, [residents[3]], first + dt.timedelta(days=1))
    assert pull_sources(db, item)["pulled"][0]["rows"] == 1  # only what came after the mark
    deliveries = _delivered(db, item)
    assert [d[1] for d in deliveries] == [3, 1]
    keys = db.execute(
        "SELECT entity_key FROM onemap.source_record WHERE delivery_id = %s", (deliveries[1][0],)
    ).fetchall()
    assert keys == [(residents[3][0],)]


def test_a_source_that_is_down_waits_and_never_shows_its_credentials(
    db: psycopg.Connection, pull_item: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = pull_item(
        "police", "person", {"kind": "postgresql", "dsn_env": DSN_ENV, "query": "SELECT * FROM hukou",
                             "mark": "updated_at"},
    )
    outcome = pull_sources(db, item)  # the variable is not set on this server
    assert outcome["pulled"] == [] and DSN_ENV in outcome["failed"][0]["error"]

    closed = free_port()
    monkeypatch.setenv(DSN_ENV, f"postgresql://bureau_reader:s3cret-pw@127.0.0.1:{closed}/hukou")
    assert pull_sources(db, item)["waiting"] == [item]  # backing off: not tried again yet
    outcome = pull_sources(db, item, force=True)
    error = outcome["failed"][0]["error"]
    assert "s3cret-pw" not in error and "bureau_reader" not in error and str(closed) not in error
    state = db.execute("SELECT pull_state FROM onemap.source_item WHERE id = %s", (item,)).fetchone()
    assert state is not None
    assert state[0]["ok"] is False and state[0]["failures"] == 2
    assert dt.datetime.fromisoformat(state[0]["next_try"]) > dt.datetime.now(dt.UTC)
    assert _delivered(db, item) == []


@pytest.fixture
def upstream(platform_env: str) -> Iterator[str]:
    """Another onemap over real HTTP, publishing its buildings as OGC API Features."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_an_ogc_api_collection_is_pulled_page_by_page(
    db: psycopg.Connection, upstream: str, pull_item: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEMAP_SOURCES_PULL_MAX_ROWS", "150")
    get_sources_settings.cache_clear()
    try:
        item = pull_item("housing", "building", {"kind": "ogcapi", "url": upstream, "collection": "buildings",
                                                 "mark": "code"})
        codes = [r[0] for r in db.execute("SELECT code FROM onemap.building ORDER BY code")]
        pulled: list[str] = []
        for _ in range(len(codes) // 150 + 2):  # each run goes on from the mark the previous one reached
            outcome = pull_sources(db, item)
            assert outcome["failed"] == []
            if outcome["pulled"][0]["rows"] == 0:
                break
            delivery = outcome["pulled"][0]["delivery"]
            pulled += [r[0] for r in db.execute(
                "SELECT entity_key FROM onemap.source_record WHERE delivery_id = %s ORDER BY entity_key", (delivery,)
            )]
        assert sorted(pulled) == codes  # every building once, none twice
        assert len(_delivered(db, item)) == -(-len(codes) // 150)
        record = db.execute(
            "SELECT payload FROM onemap.source_record r JOIN onemap.source_delivery d ON d.id = r.delivery_id "
            "WHERE d.item_id = %s AND d.channel = 'pull' LIMIT 1",
            (item,),
        ).fetchone()
        assert record is not None and record[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    finally:
        get_sources_settings.cache_clear()
