"""The server under real use, on 127.0.0.1: `onemap serve` with two workers under uvicorn's supervisor against
the session's PostGIS. Many concurrent readers and writers with a small pool, the database stopped and killed
under load, a worker killed under load. Every loop is bounded in count and time."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import morecantile
import psycopg
import pytest

from spatial.cluster import LocalCluster
from spatial.database import libpq_url
from tests.browser import free_port
from tests.features_support import Keys, make_keys

POOL_SIZE = 4  # far fewer connections than concurrent requests: a request holding two would deadlock it


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> set[int]:
        """The supervisor's live worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        alive = set()
        for pid in map(int, children):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
                alive.add(pid)
        return alive


@pytest.fixture(scope="module")
def keys(platform_env: str) -> Keys:
    return make_keys(platform_env)


@pytest.fixture(scope="module")
def server(platform_env: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "ONEMAP_DATABASE_URL": libpq_url(platform_env), "ONEMAP_DATA_DIR": str(data_dir),
           "ONEMAP_API_POOL_MAX_SIZE": str(POOL_SIZE), "ONEMAP_API_POOL_MIN_SIZE": "1",
           "ONEMAP_API_POOL_TIMEOUT": "3"}
    log = data_dir / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until(lambda: _status(f"{running.base}/health") == 200, 60, f"server did not start: {log}")
        wait_until(lambda: len(running.workers()) == 2, 30, "two workers did not start")
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until(condition: Callable[[], bool], seconds: float, message: str) -> float:
    """Poll until `condition` holds; how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(message)
        time.sleep(0.1)
    return time.monotonic() - start


def _status(url: str, **kwargs: object) -> int:
    try:
        return httpx.get(url, timeout=5, **kwargs).status_code  # type: ignore[arg-type]
    except httpx.HTTPError:
        return 0


@pytest.fixture(scope="module")
def sample(platform_env: str) -> dict[str, object]:
    """What the readers ask for: building codes and tiles that hold buildings."""
    with psycopg.connect(libpq_url(platform_env)) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM onemap.building ORDER BY id LIMIT 20")]
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) AS c FROM onemap.building) x"
        ).fetchone() or (114.25, 22.7)
    return {"codes": codes, "lon": lon, "lat": lat}


def reader_urls(base: str, sample: dict[str, object]) -> list[str]:
    mercator = morecantile.tms.get("WebMercatorQuad")
    codes = sample["codes"]
    assert isinstance(codes, list)
    urls = [f"{base}/collections/buildings/items?limit=100&offset={i * 100}" for i in range(3)]
    urls += [f"{base}/archives/buildings/{code}" for code in codes[:5]]
    for z in range(12, 17):
        tile = mercator.tile(float(sample["lon"]), float(sample["lat"]), z)  # type: ignore[arg-type]
        urls.append(f"{base}/collections/buildings/tiles/WebMercatorQuad/{z}/{tile.x}/{tile.y}")
    return urls


@dataclass
class Tally:
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, what: str) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 400 or status == 0:
                self.errors.append(f"{status} {what}")


def read_loop(urls: list[str], key: str, until: float, tally: Tally, client: httpx.Client) -> None:
    i = 0
    while time.monotonic() < until and i < 400:
        url = urls[i % len(urls)]
        i += 1
        try:
            status = client.get(url, headers={"X-API-Key": key}, timeout=30).status_code
        except httpx.HTTPError as exc:
            tally.add(0, f"{url}: {type(exc).__name__}")
            continue
        tally.add(status, url)


def test_64_readers_and_16_writers_with_a_pool_of_4(
    server: Server, keys: Keys, sample: dict[str, object], platform_env: str
) -> None:
    urls = reader_urls(server.base, sample)
    codes = sample["codes"]
    assert isinstance(codes, list)
    with psycopg.connect(libpq_url(platform_env)) as conn:
        ids = {code: conn.execute("SELECT id FROM onemap.building WHERE code = %s", [code]).fetchone()[0]  # type: ignore[index]
               for code in codes[:16]}
        versions_before = conn.execute(
            "SELECT count(*) FROM onemap.building_history WHERE id = ANY(%s)", [list(ids.values())]
        ).fetchone()[0]  # type: ignore[index]
    readers, writes = Tally(), Tally()
    acknowledged: dict[int, list[str]] = {i: [] for i in ids.values()}
    until = time.monotonic() + 15

    def write_loop(feature_id: int, client: httpx.Client) -> None:
        for n in range(25):
            if time.monotonic() > until:
                return
            name = f"load test {feature_id} #{n}"
            try:
                response = client.patch(
                    f"{server.base}/collections/buildings/items/{feature_id}",
                    json={"properties": {"name": name}}, headers={"X-API-Key": keys.housing}, timeout=30,
                )
            except httpx.HTTPError as exc:
                writes.add(0, type(exc).__name__)
                continue
            writes.add(response.status_code, f"PATCH {feature_id}")
            if response.status_code == 204:
                acknowledged[feature_id].append(name)

    limits = httpx.Limits(max_connections=100)
    with httpx.Client(limits=limits) as client, ThreadPoolExecutor(max_workers=80) as pool:
        jobs = [pool.submit(read_loop, urls, keys.planner, until, readers, client) for _ in range(64)]
        jobs += [pool.submit(write_loop, feature_id, client) for feature_id in ids.values()]
        for job in jobs:
            job.result()
    assert not readers.errors, readers.errors[:10]
    assert not writes.errors, writes.errors[:10]
    assert sum(readers.statuses.values()) > 64 and sum(writes.statuses.values()) >= 16
    with psycopg.connect(libpq_url(platform_env)) as conn:
        for feature_id, names in acknowledged.items():
            current = conn.execute("SELECT name FROM onemap.building WHERE id = %s", [feature_id]).fetchone()
            assert current is not None and current[0] == names[-1]  # the last acknowledged write is the value
        versions = conn.execute(
            "SELECT count(*) FROM onemap.building_history WHERE id = ANY(%s)", [list(ids.values())]
        ).fetchone()[0]  # type: ignore[index]
    # Every acknowledged write left the previous version in the history: none lost, none doubled.
    assert versions - versions_before == sum(len(n) for n in acknowledged.values())


def test_hostile_filters_and_urls_leave_the_server_answering(server: Server, keys: Keys) -> None:
    items = f"{server.base}/collections/buildings/items"
    hostile = {
        "nested parentheses": "(" * 2000 + "floors > 1" + ")" * 2000,
        "NOT chain": "NOT " * 4000 + "floors > 1",
        "sign chain": "floors > " + "-" * 15000 + "1",
        "huge IN list": "floors IN (" + ",".join(str(i) for i in range(3000)) + ")",
    }
    for what, text in hostile.items():
        response = httpx.get(items, params={"filter": text}, timeout=30)
        assert response.status_code == 400, what
        assert response.headers["content-type"] == "application/problem+json"
        assert "Traceback" not in response.text and "psycopg" not in response.text
    # Past what httpx sends, so as raw HTTP. 40 KB: over the app's 32 KiB limit, a 414 that says what to do;
    # 390 KB: over uvicorn's own request-line limit, which refuses it before the app (a 400).
    for values, statuses in ((6_000, {414}), (50_000, {400, 414})):
        connection = http.client.HTTPConnection(server.base.removeprefix("http://"), timeout=30)
        connection.request("GET", "/collections/buildings/items?filter=" + quote(
            "floors IN (" + ",".join(str(i) for i in range(values)) + ")"))
        too_long = connection.getresponse()
        body = too_long.read()
        assert too_long.status in statuses, (values, too_long.status, body[:200])
        if too_long.status == 414:
            assert "URL" in json.loads(body)["detail"]
        connection.close()
    for path in ("/warnings", "/verification/issues", "/collections/buildings/items"):
        deep = httpx.get(f"{server.base}{path}", params={"offset": 9223372036854775808},
                         headers={"X-API-Key": keys.admin}, timeout=30)
        assert deep.status_code == 400 and "offset" in deep.json()["detail"], path
    assert _status(f"{server.base}/health") == 200
    assert len(server.workers()) == 2  # nobody crashed


def test_bad_edits_are_refused_and_change_nothing(server: Server, keys: Keys, platform_env: str) -> None:
    with psycopg.connect(libpq_url(platform_env)) as conn:
        feature_id, before = conn.execute(
            "SELECT id, ST_AsText(geom) FROM onemap.building ORDER BY id DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        changes = conn.execute("SELECT count(*) FROM onemap.tile_change").fetchone()[0]  # type: ignore[index]
    url = f"{server.base}/collections/buildings/items/{feature_id}"
    headers = {"X-API-Key": keys.housing, "Content-Type": "application/json"}
    square = [[114.2, 22.7], [114.2001, 22.7], [114.2001, 22.7001], [114.2, 22.7]]
    bodies = {
        "NaN string": {"geometry": {"type": "Polygon", "coordinates": [[["NaN", 22.7], *square[1:], ["NaN", 22.7]]]}},
        "null island": {"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0, 0.001], [0, 0]]]}},
        "boolean": {"geometry": {"type": "Polygon", "coordinates": [[[True, 22.7], *square[1:], [True, 22.7]]]}},
        "long text": {"properties": {"name": "x" * 20_000}},
    }
    for what, body in bodies.items():
        response = httpx.patch(url, content=json.dumps(body), headers=headers, timeout=30)
        assert response.status_code == 400, (what, response.text)
        assert response.json()["detail"], what
    raw_nan = '{"geometry": {"type": "Point", "coordinates": [NaN, 22.7]}}'
    assert httpx.patch(url, content=raw_nan, headers=headers, timeout=30).status_code == 400
    huge = httpx.patch(url, content=b'{"properties": {"name": "' + b"x" * (3 * 1024 * 1024) + b'"}}',
                       headers=headers, timeout=30)
    assert huge.status_code == 413
    with psycopg.connect(libpq_url(platform_env)) as conn:
        after = conn.execute("SELECT ST_AsText(geom) FROM onemap.building WHERE id = %s", [feature_id]).fetchone()
        assert after is not None and after[0] == before
        assert conn.execute("SELECT count(*) FROM onemap.tile_change").fetchone()[0] == changes  # type: ignore[index]


@pytest.fixture
def own_cluster(scratch_cluster: LocalCluster | None) -> LocalCluster:
    if scratch_cluster is None:
        pytest.skip("ONEMAP_TEST_DATABASE_URL names a server this suite may not stop")
    return scratch_cluster


def _loaded_reads(server: Server, keys: Keys, sample: dict[str, object]) -> tuple[Tally, threading.Event]:
    """Readers that keep going (bounded) until the returned event is set."""
    urls = reader_urls(server.base, sample)
    tally, stop = Tally(), threading.Event()

    def loop() -> None:
        with httpx.Client() as client:
            for i in range(2000):
                if stop.is_set():
                    return
                start = time.monotonic()
                try:
                    status = client.get(urls[i % len(urls)], headers={"X-API-Key": keys.planner},
                                        timeout=30).status_code
                except httpx.HTTPError:
                    status = 0
                tally.add(status, f"{time.monotonic() - start:.2f}s")

    for _ in range(8):
        threading.Thread(target=loop, daemon=True).start()
    return tally, stop


def _back_within(server: Server, keys: Keys, seconds: float) -> float:
    """Seconds until a request is served again; from then on every request is, whichever worker takes it."""
    url = f"{server.base}/collections/buildings/items?limit=10"
    took = wait_until(lambda: _status(url, headers={"X-API-Key": keys.planner}) == 200, seconds,
                      f"service not back within {seconds} s of the database")
    right_after = [_status(url, headers={"X-API-Key": keys.planner}) for _ in range(20)]
    assert right_after == [200] * 20, f"a worker still answered from a stale outage: {right_after}"
    return took


def test_database_stop_and_kill_under_load(
    server: Server, keys: Keys, sample: dict[str, object], own_cluster: LocalCluster, platform_env: str
) -> None:
    tally, stop = _loaded_reads(server, keys, sample)
    try:
        time.sleep(1)
        own_cluster.stop()
        time.sleep(1.5)
        # Fresh connections, so both workers answer, the one the load's keep-alive connections missed too.
        for _ in range(6):
            started = time.monotonic()
            down = httpx.get(f"{server.base}/collections/buildings/items", headers={"X-API-Key": keys.planner},
                             timeout=30)
            assert down.status_code == 503 and time.monotonic() - started < 2  # fails fast, says so
            assert "database" in down.json()["detail"] and down.headers["retry-after"]
        assert _status(f"{server.base}/health") == 503
        own_cluster.start()
        assert _back_within(server, keys, 5) < 5

        # kill -9 of the postmaster: acknowledged writes survive, service comes back.
        with psycopg.connect(libpq_url(platform_env)) as conn:
            feature_id = conn.execute("SELECT id FROM onemap.building ORDER BY id LIMIT 1").fetchone()[0]  # type: ignore[index]
        name = f"before the crash {time.time()}"
        written = httpx.patch(f"{server.base}/collections/buildings/items/{feature_id}",
                              json={"properties": {"name": name}}, headers={"X-API-Key": keys.housing})
        assert written.status_code == 204
        pid = int((own_cluster.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not own_cluster.is_running(), 10, "postmaster still running")
        time.sleep(1)  # its backends notice and exit
        own_cluster.start()
        assert _back_within(server, keys, 5) < 5
        with psycopg.connect(libpq_url(platform_env)) as conn:
            stored = conn.execute("SELECT name FROM onemap.building WHERE id = %s", [feature_id]).fetchone()
        assert stored is not None and stored[0] == name
    finally:
        stop.set()
        if not own_cluster.is_running():
            own_cluster.start()
    # While the database was away requests failed with 503, never 500, and none hung.
    assert set(tally.statuses) <= {200, 204, 503}, tally.statuses  # 204: a tile with nothing in it
    assert tally.statuses.get(200, 0) > 0


def test_a_killed_worker_is_replaced_while_the_other_answers(
    server: Server, keys: Keys, sample: dict[str, object]
) -> None:
    before = server.workers()
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    url = f"{server.base}/collections/buildings/items?limit=10"
    answered = [_status(url, headers={"X-API-Key": keys.planner}) for _ in range(30)]
    assert answered.count(200) == 30  # the other worker took every request
    wait_until(lambda: len(server.workers()) == 2 and victim not in server.workers(), 30,
               "the supervisor did not replace the killed worker")
    assert _status(f"{server.base}/health") == 200


@pytest.mark.parametrize(("who", "methods"), [
    ("admin", {"GET"}),
    (None, {"GET", "POST", "PUT", "PATCH", "DELETE"}),
    ("planner", {"POST", "PUT", "PATCH", "DELETE"}),  # may write nothing: every write is refused, never a 500
])
def test_schemathesis_over_the_whole_api(server: Server, keys: Keys, who: str | None, methods: set[str]) -> None:
    """Every operation, generated inputs: no 5xx, and every status code, content type and body is one the
    OpenAPI document declares for it."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    headers = {"X-API-Key": getattr(keys, who)} if who else {}
    schema = schemathesis.openapi.from_url(f"{server.base}/api")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 50
    for operation in operations:
        if operation.method.upper() not in methods:
            continue
        if operation.path.endswith("/stream") and who is not None:
            continue  # an SSE stream never ends for a caller it admits; tests/test_streams.py reads them

        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy())
        def probe(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=checks, timeout=60)

        try:
            probe()
        except BaseException as exc:  # a FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.method} {operation.path}: {' '.join(str(exc).split())[:300]}")
    assert not failures, "\n".join(failures)


def test_keys_in_urls_never_reach_the_access_log(server: Server, keys: Keys) -> None:
    response = httpx.get(f"{server.base}/collections/buildings/items", params={"limit": 1, "api_key": keys.admin})
    assert response.status_code == 200
    wait_until(lambda: "api_key=[redacted]" in server.log.read_text(), 10, "the request was not logged")
    assert keys.admin not in server.log.read_text()
