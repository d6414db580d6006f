"""Headless Debian Chromium driven over the Chrome DevTools Protocol (websocket-client), and the platform
served by a real uvicorn: for the viewer's browser tests and ``benchmarks/viewer_render.py``.

No network: Chromium resolves no host but 127.0.0.1 (``--host-resolver-rules``), and its background services
are off, so any request that would leave the machine shows up as a failed request."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = os.environ.get("ONEMAP_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--no-default-browser-check", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
    "--disable-features=Translate,OptimizationHints,MediaRouter", "--remote-allow-origins=*",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,800",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def platform_server(database_url: str, data_dir: Path,
                    extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn running ``api.main:app`` on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "ONEMAP_DATABASE_URL": database_url, "ONEMAP_DATA_DIR": str(data_dir),
           **(extra_env or {})}
    log = open(data_dir / "uvicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {(data_dir / 'uvicorn.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Page:
    """One browser tab: commands, and every event kept for assertions."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.ws.settimeout(max(0.01, end - time.monotonic()))
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in message:
                self.events.append(message)
        self.ws.settimeout(60)

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_until(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self.pump(0.2)
        raise TimeoutError(f"not true after {timeout}s: {expression}")

    def goto(self, url: str, timeout: float = 30.0) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_until("document.readyState === 'complete'", timeout)

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    # what went wrong, from the events
    def console_errors(self) -> list[str]:
        errors = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                errors.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(json.dumps(p.get("args", []))[:500])
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
        return errors

    def requests(self) -> dict[str, str]:
        return {e["params"]["requestId"]: e["params"]["request"]["url"]
                for e in self.events if e["method"] == "Network.requestWillBeSent"}

    def failed_requests(self) -> list[str]:
        urls = self.requests()
        failed = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Network.loadingFailed" and not p.get("canceled"):
                failed.append(f"{urls.get(p['requestId'], '?')}: {p.get('errorText')}")
            elif e["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
                failed.append(f"{p['response']['url']}: HTTP {p['response']['status']}")
        return failed

    def screenshot(self, path: Path) -> None:
        import base64

        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.ws.close()


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists()


@contextmanager
def chromium() -> Iterator[Callable[[], Page]]:
    """A fresh headless Chromium (own profile); yields a factory of pages (tabs)."""
    profile = Path(tempfile.mkdtemp(prefix="onemap-chromium-"))
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pages: list[Page] = []
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])

        def new_page() -> Page:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(request, timeout=10) as r:
                target = json.loads(r.read())
            page = Page(target["webSocketDebuggerUrl"])
            page.send("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1,
                      mobile=False)
            pages.append(page)
            return page

        yield new_page
    finally:
        for page in pages:
            page.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def assert_page_clean(page: Page) -> None:
    """No console error, no failed request, and nothing asked of a host other than the local server."""
    assert page.console_errors() == []
    assert page.failed_requests() == []
    outside = [u for u in page.requests().values() if not u.startswith(("http://127.0.0.1", "data:"))]
    assert outside == []
