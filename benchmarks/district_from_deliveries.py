"""The district born from its deliveries: the generated district's archives emptied (the areas kept), then every
department's files (`onemap generate --as-deliveries`) delivered with the default mappings and fused, department
by department, and the archives compared with the generator's truth.

    ONEMAP_DATA_DIR=/tmp/onemap-born .venv/bin/onemap generate --scale tiny
    ONEMAP_DATA_DIR=/tmp/onemap-born .venv/bin/python benchmarks/district_from_deliveries.py --scale tiny

Destroys the archives and deliveries of the database it runs on (`onemap db url`, or --database-url): run it
on a scratch data directory, freshly generated. Reports per archive the entities the generator made, those
fusion made from the files, key precision and recall, and per compared attribute the share equal to the truth;
the time of writing, delivering and fusing; JSON in --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from spatial.database import libpq_url  # noqa: E402
from spatial.district.deliveries import ANSWER_KEY  # noqa: E402
from spatial.fusion.engine import run_fusion  # noqa: E402
from spatial.sources.deliveries import DeliveryRequest, deliver_file  # noqa: E402

HERE = Path(__file__).resolve().parent
# The authorities first, so that the verifying departments' records find the entities they are about.
ORDER = ("housing", "police", "market", "grid", "social_security", "industry", "urban_management")
# archive -> (key column, attributes compared with the truth)
ARCHIVES = {
    "building": ("code", ("floors", "use", "built_year", "grid_code")),
    "person": ("id_number", ("name", "sex", "birth_date")),
    "enterprise": ("credit_code", ("name", "status")),
    "house_unit": ("id", ()),
    "residence": ("id", ()),
}


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, pd.DataFrame]:
    frames = {}
    for table, (key, attributes) in ARCHIVES.items():
        columns = ", ".join((key, *attributes))
        rows = conn.execute(f"SELECT {columns} FROM onemap.{table}").fetchall()
        frames[table] = pd.DataFrame(rows, columns=[key, *attributes])
    return frames


def compare(truth: dict[str, pd.DataFrame], born: dict[str, pd.DataFrame]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for table, (key, attributes) in ARCHIVES.items():
        expected, made = truth[table], born[table]
        entry: dict[str, Any] = {"truth": len(expected), "born": len(made)}
        if attributes:  # entities with a natural key: which were made, and with what
            expected_keys, made_keys = set(expected[key].astype(str)), set(made[key].astype(str))
            found = expected_keys & made_keys
            entry["precision"] = len(found) / len(made_keys) if made_keys else 0.0
            entry["recall"] = len(found) / len(expected_keys) if expected_keys else 0.0
            joined = expected.astype({key: str}).merge(made.astype({key: str}), on=key, suffixes=("", "_born"))
            entry["attributes_equal"] = {
                a: float((joined[a].astype(str) == joined[f"{a}_born"].astype(str)).mean()) if len(joined) else 0.0
                for a in attributes
            }
        result[table] = entry
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=None, help="default: `onemap db url`")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "district_from_deliveries.json")
    args = parser.parse_args()
    onemap = str(ROOT / ".venv/bin/onemap")
    url = args.database_url or subprocess.check_output([onemap, "db", "url"], text=True).strip().splitlines()[-1]
    folder = Path(tempfile.mkdtemp(prefix="onemap-deliveries-"))
    started = time.perf_counter()
    subprocess.run([onemap, "generate", "--scale", args.scale, "--seed", str(args.seed),
                    "--as-deliveries", str(folder)], check=True)
    timings: dict[str, float] = {"write_s": time.perf_counter() - started}
    answer_key = pd.read_parquet(folder / ANSWER_KEY)
    files = answer_key.groupby("file")["department"].first()
    steps: list[dict[str, Any]] = []
    with psycopg.connect(libpq_url(url)) as conn:
        truth = snapshot(conn)
        if not len(truth["building"]):
            raise SystemExit("no archives to compare with: run `onemap generate` on this data directory first")
        # The deliveries too: a file delivered before is a no-op when sent again (its content hash).
        conn.execute("TRUNCATE onemap.building, onemap.house_unit, onemap.person, onemap.enterprise, "
                     "onemap.residence, onemap.source_record, onemap.source_delivery CASCADE")
        conn.commit()
        deliver_s = fuse_s = 0.0
        for department in ORDER:
            step_started = time.perf_counter()
            accepted = rejected = 0
            for name in (n for n, d in files.items() if d == department):
                report = deliver_file(conn, folder / str(name), DeliveryRequest(department, str(name), "benchmark"))
                accepted, rejected = accepted + int(report["accepted"]), rejected + int(report["rejected"])
            fused_at = time.perf_counter()
            deliver_s += fused_at - step_started
            fusion = run_fusion(conn)
            fuse_s += time.perf_counter() - fused_at
            created = {k: v for k, v in fusion.counts.items() if k.startswith("created")}
            steps.append({"department": department, "accepted": accepted, "rejected_rows": rejected,
                          "fused": fusion.records, "fusion_rejected": fusion.rejected, **created})
            print(json.dumps(steps[-1], ensure_ascii=False), flush=True)
        born = snapshot(conn)
    timings.update(deliver_s=deliver_s, fuse_s=fuse_s)
    results = {"scale": args.scale, "seed": args.seed, "timings": timings, "steps": steps,
               "archives": compare(truth, born)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    for table, entry in results["archives"].items():
        print(f"{table:>11}: {json.dumps(entry)}")
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
