"""The district born from its deliveries, measured against the generator's truth: the generated district is
loaded first (the truth, read back from its archives), then `onemap generate --from-deliveries` does on the same
database what a real district's data does: every department's files (in their own formats) written, delivered
with the default mappings and fused (spatial.district.born), and the archives compared with the truth.

    ONEMAP_DATA_DIR=/tmp/onemap-born .venv/bin/onemap generate --scale tiny
    ONEMAP_DATA_DIR=/tmp/onemap-born .venv/bin/python benchmarks/district_from_deliveries.py --scale tiny

Replaces the archives and deliveries of the database it runs on (`onemap db url`, or --database-url): run it
on a scratch data directory, freshly generated. Reports per archive the entities the generator made, those
fusion made from the files, key precision and recall, and per compared attribute the share equal to the truth;
entity resolution of the rows sent with a key missing or garbled (precision: rows linked to their true entity
among those linked; recall: among all such rows); the time of writing, delivering and fusing; JSON in --out.
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
from spatial.district.born import FUSION_GROUPS, born_district  # noqa: E402
from spatial.district.deliveries import ANSWER_KEY  # noqa: E402

HERE = Path(__file__).resolve().parent
# archive -> (the query of its natural key and compared attributes, the attributes)
ARCHIVES = {
    "building": ("SELECT code AS key, floors, use, built_year, grid_code FROM onemap.building",
                 ("floors", "use", "built_year", "grid_code")),
    "person": ("SELECT id_number AS key, name, sex, birth_date FROM onemap.person", ("name", "sex", "birth_date")),
    "enterprise": ("SELECT credit_code AS key, name, status FROM onemap.enterprise", ("name", "status")),
    "house_unit": ("SELECT g.code || '/' || u.unit_no || '/' || u.room_no AS key, u.floor, u.area_m2, u.use "
                   "FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id",
                   ("floor", "area_m2", "use")),
    # a person's current home: who lives in which room
    "residence": ("SELECT p.id_number || '@' || g.code || '/' || u.unit_no || '/' || u.room_no AS key "
                  "FROM onemap.residence r JOIN onemap.person p ON p.id = r.person_id "
                  "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
                  "WHERE r.valid_to IS NULL", ()),
}  # fmt: skip


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, pd.DataFrame]:
    frames = {}
    for table, (query, attributes) in ARCHIVES.items():
        frames[table] = pd.DataFrame(conn.execute(query).fetchall(), columns=["key", *attributes])
    return frames


def delivered_keys(conn: psycopg.Connection[Any], delivery_id: int, rows: int) -> list[str | None]:
    """The key each row of a delivery ended with (after resolution), by row; None for a row not accepted."""
    rejected = {r for (r,) in conn.execute(
        "SELECT row_no FROM onemap.source_rejection WHERE delivery_id = %s", (delivery_id,))}
    keys = iter(k for (k,) in conn.execute(
        "SELECT entity_key FROM onemap.source_record WHERE delivery_id = %s ORDER BY id", (delivery_id,)))
    return [None if row in rejected else next(keys) for row in range(1, rows + 1)]


def resolution(answer_key: pd.DataFrame) -> dict[str, Any]:
    """Rows sent with a key missing or garbled: linked to their true entity, to another, or not at all."""
    damaged = answer_key[answer_key["key_damage"].notna()]
    linked = damaged[damaged["final_key"].notna() & (damaged["final_key"] != damaged["sent_key"].fillna(""))]
    right = int((linked["final_key"] == linked["entity_key"]).sum())
    by_damage = {str(d): {"rows": len(g), "linked_right": int((g["final_key"] == g["entity_key"]).sum())}
                 for d, g in damaged.groupby("key_damage")}
    return {"rows": len(damaged), "linked": len(linked), "linked_right": right,
            "precision": right / len(linked) if len(linked) else 0.0,
            "recall": right / len(damaged) if len(damaged) else 0.0, "by_damage": by_damage}


def compare(truth: dict[str, pd.DataFrame], born: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Per archive: which entities were made (by natural key), and with what attributes."""
    result: dict[str, Any] = {}
    for table, (_, attributes) in ARCHIVES.items():
        expected, made = truth[table].astype({"key": str}), born[table].astype({"key": str})
        expected_keys, made_keys = set(expected["key"]), set(made["key"])
        found = expected_keys & made_keys
        joined = expected.merge(made, on="key", suffixes=("", "_born"))
        result[table] = {
            "truth": len(expected), "born": len(made),
            "precision": len(found) / len(made_keys) if made_keys else 0.0,
            "recall": len(found) / len(expected_keys) if expected_keys else 0.0,
            "attributes_equal": {
                a: float((joined[a].astype(str) == joined[f"{a}_born"].astype(str)).mean()) if len(joined) else 0.0
                for a in attributes
            },
        }  # fmt: skip
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
    with psycopg.connect(libpq_url(url)) as conn:
        truth = snapshot(conn)
    if not len(truth["building"]):
        raise SystemExit("no archives to compare with: run `onemap generate` on this data directory first")
    started = time.perf_counter()
    report = born_district(url, folder, args.scale, args.seed)
    total_s = time.perf_counter() - started
    answer_key = pd.read_parquet(folder / ANSWER_KEY)
    final: dict[tuple[str, int], str | None] = {}
    with psycopg.connect(libpq_url(url)) as conn:
        born = snapshot(conn)
        delivery_ids = dict(conn.execute("SELECT filename, id FROM onemap.source_delivery").fetchall())
        for name, rows in answer_key.groupby("file")["row"].max().items():
            for row, key in enumerate(delivered_keys(conn, delivery_ids[str(name)], int(rows)), start=1):
                final[str(name), row] = key
    answer_key["final_key"] = [final[f, int(r)] for f, r in zip(answer_key["file"], answer_key["row"], strict=True)]
    timings = {f"{step}_s": seconds for step, seconds in report.seconds.items()} | {"total_s": total_s}
    results = {"scale": args.scale, "seed": args.seed, "fusion_groups": FUSION_GROUPS, "timings": timings,
               "fusion_step_s": report.fusion_steps,
               "delivered_rows": report.delivered_rows, "rejected_rows": report.rejected_rows,
               "created": report.created, "archives": compare(truth, born), "resolution": resolution(answer_key)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    for table, entry in results["archives"].items():
        print(f"{table:>11}: {json.dumps(entry)}")
    print(f" resolution: {json.dumps(results['resolution'])}")
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
