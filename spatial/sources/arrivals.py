"""Arrival triggers fusion: every delivery, push or pull announces itself (NOTIFY onemap_arrivals, sent when its
transaction commits); each server worker listens, waits a moment for more to arrive (debounce), then fuses what
arrived. Only one worker fuses at a time, across every process: a session advisory lock decides, and the others
wait until the fusion mark has passed what they were told about (the fusing worker keeps going while records
keep arriving), so nothing waits for a cron and nothing is fused twice."""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from spatial.database import libpq_url
from spatial.fusion import FusionReport, run_fusion

CHANNEL = "onemap_arrivals"
TRIGGER_LOCK = 7_170_002  # beside the fusion run's own FUSION_LOCK
log = logging.getLogger("onemap.sources")


def announce(conn: psycopg.Connection, delivery_id: int) -> None:
    """Inside the delivery's transaction: listeners hear of it when (and only if) it commits."""
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(delivery_id)))


def _scalar(conn: psycopg.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def fused_up_to(conn: psycopg.Connection) -> int:
    return _scalar(conn, "SELECT max(last_record_id) FROM onemap.fusion_run WHERE finished_at IS NOT NULL")


def newest_record(conn: psycopg.Connection) -> int:
    return _scalar(conn, "SELECT max(id) FROM onemap.source_record")


def fuse_arrivals(
    url: str, wait_seconds: float = 1.0, stop: threading.Event | None = None
) -> list[FusionReport]:
    """Fuse until every record that existed when called is fused; the runs this call made (none when another
    worker did the work)."""
    reports: list[FusionReport] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        target = newest_record(conn)
        while fused_up_to(conn) < target:
            if _scalar(conn, f"SELECT pg_try_advisory_lock({TRIGGER_LOCK})::int"):
                try:
                    # Keep going while records keep arriving: the other workers are waiting on this one.
                    while fused_up_to(conn) < newest_record(conn):
                        reports.append(run_fusion(conn))
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (TRIGGER_LOCK,))
                break
            if stop is not None and stop.wait(wait_seconds):
                break
            if stop is None:
                time.sleep(wait_seconds)
    return reports


class ArrivalFuser:
    """A worker's listener: a thread with its own connection, LISTENing for arrivals."""

    def __init__(self, url: str, debounce_seconds: float) -> None:
        self.url, self.debounce = url, debounce_seconds
        self.stop_event = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._run, name="onemap-arrivals", daemon=True)
        self._listening = threading.Event()

    def start(self) -> ArrivalFuser:
        self._thread.start()
        self._listening.wait(timeout=10)
        return self

    def stop(self, timeout: float = 60.0) -> None:
        self.stop_event.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self._listen()
            except psycopg.OperationalError as exc:  # the database restarted: listen again shortly
                log.warning("arrival listener lost its connection (%s); reconnecting", exc)
                self.stop_event.wait(2.0)
            except Exception:
                log.exception("fusion after an arrival failed; the next arrival tries again")
                self.stop_event.wait(2.0)

    def _listen(self) -> None:
        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._listening.set()
            while not self.stop_event.is_set():
                heard = any(True for _ in conn.notifies(timeout=1.0, stop_after=1))
                if not heard:
                    continue
                # Debounce: a burst of pushes is fused as one micro-batch.
                deadline = time.monotonic() + self.debounce
                while (left := deadline - time.monotonic()) > 0 and not self.stop_event.is_set():
                    for _ in conn.notifies(timeout=left):
                        pass
                self.runs += len(fuse_arrivals(self.url, min(self.debounce, 1.0) or 0.2, self.stop_event))
