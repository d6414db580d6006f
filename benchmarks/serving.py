"""Helpers of the case, stream and door-access benchmarks: an onemap server in a subprocess, keys, percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from api.auth import create_key
from spatial.database import engine_for, libpq_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(url: str, workers: int = 1) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ONEMAP_DATABASE_URL": libpq_url(url)}
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--log-level",
        "warning",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the onemap server did not start")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def key(url: str, role: str = "planner") -> str:
    with engine_for(url).begin() as conn:
        return create_key(conn, f"benchmark {role}", role).key


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return (
        round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))], 2)
        if ordered
        else 0.0
    )
