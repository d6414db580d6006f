"""First render of the one-map viewer (/map) in headless Debian Chromium, with no network.

Runs on whatever district is loaded (the issue's target is `small`: under 2 s on this machine):

    ONEMAP_DATA_DIR=/tmp/onemap-bench-v .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-v .venv/bin/python benchmarks/viewer_render.py --runs 5

"First render" is from navigation start to the moment every visible vector layer has drawn its first tiles
(``onemap.readyAt``, performance.now() in the page). Reported: the cold run (empty tile cache, fresh
browser) and the median of warm runs (tile cache filled, each run in a fresh browser profile), plus the
page's size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatial.database import database_url, engine_for
from tests.browser import chromium, platform_server


def planner_key(url: str) -> str:
    from api.auth import create_key

    with engine_for(url).begin() as conn:
        return create_key(conn, "viewer benchmark", "planner").key


def render_once(base: str, key: str) -> dict[str, float]:
    with chromium() as new_page:
        page = new_page()
        page.goto(f"{base}/map?api_key={key}", timeout=60)
        page.wait_until("document.documentElement.getAttribute('data-onemap-ready') === '1'", 60)
        timing = page.evaluate("""(function () { var n = performance.getEntriesByType('navigation')[0];
            return {ready: onemap.readyAt, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()""")
        page.pump(0.5)
        failed = page.failed_requests()
        errors = page.console_errors()
        if failed or errors:
            print(f"warning: {len(failed)} failed requests, {len(errors)} console errors", file=sys.stderr)
        return {k: float(v) for k, v in timing.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the cold one")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).parent / "results" / "viewer_render.json")
    args = parser.parse_args()
    url = os.environ.get("ONEMAP_DATABASE_URL") or database_url()
    key = planner_key(url)
    with tempfile.TemporaryDirectory(prefix="onemap-viewer-bench-") as data_dir, \
            platform_server(url, Path(data_dir)) as base:
        with urllib.request.urlopen(f"{base}/map?api_key={key}", timeout=60) as r:
            size = len(r.read())
        # the DEM's COG is made on first use, outside the measured runs
        urllib.request.urlopen(
            f"{base}/collections/dem/tiles/WebMercatorQuad/12/3346/1782?style=hillshade&api_key={key}",
            timeout=120,
        ).close()
        cold = render_once(base, key)
        warm = [render_once(base, key) for _ in range(args.runs)]
    result = {
        "page_bytes": size,
        "cold_first_render_ms": round(cold["ready"]),
        "warm_first_render_ms_median": round(statistics.median(w["ready"] for w in warm)),
        "warm_first_render_ms_max": round(max(w["ready"] for w in warm)),
        "warm_dom_content_loaded_ms_median": round(statistics.median(w["dom"] for w in warm)),
        "runs": args.runs,
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
