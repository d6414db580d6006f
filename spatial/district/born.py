"""The district born from its deliveries: the generator writes what each department would send (in its own
format, spatial.district.deliveries), the files are delivered as any department's are (spatial.sources), and
fusion makes the archives from them. Only the administrative areas (the map's frame, not an archive), the events
and the answer key's planted disagreements are copied in directly. The call behind ``onemap generate
--from-deliveries`` and ``onemap demo``.

Resumable at every step: written files are kept (the answer key is written last), a file delivered before is
a no-op (its content hash), fusion takes only what it has not fused, and copied parts are recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from tqdm import tqdm

from spatial.database import libpq_url
from spatial.district.deliveries import ANSWER_KEY, KEY_DAMAGE_RATE, write_deliveries
from spatial.district.events import generate_events
from spatial.district.generate import department_tables, entity_tables
from spatial.district.load_district import KEY_DAMAGE_STREAM, check_key_damage_rate, district_spec
from spatial.district.sources import DELIVERED_SPECS
from spatial.load_parts import load_parts

# Fusion runs after each group. The first holds the creators (housing's buildings and rooms, police's persons,
# market supervision's enterprises) and the grid survey, whose phones and homes the archive then holds; the
# second, the verifying departments whose records without a key are found by name, birth date and phone.
FUSION_GROUPS = (("housing", "police", "market", "grid"), ("social_security", "industry", "urban_management"))
DELIVERY_WORKERS = 2  # the machine's cores: a delivery is mostly Python checking rows
LAST_PART = "planted"  # copied in last: the district is complete once it is recorded
BORN_SUFFIX = ":born"  # apart from the directly loaded dataset of the same spec (spatial.load_parts)
# What a district born again from scratch empties besides the tables load_parts empties.
DELIVERY_TABLES = ("source_delivery", "source_record", "attribute_provenance", "fusion_rejection",
                   "source_resolution", "verification_issue")  # fmt: skip


@dataclass
class BornReport:
    folder: Path
    files: int = 0
    delivered_rows: int = 0
    rejected_rows: int = 0
    created: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    fusion_steps: list[dict[str, float]] = field(default_factory=list)  # per fusion run: seconds per step


def _deliver_one(url: str, path: Path, department: str, kind: str) -> tuple[int, int]:
    """One file delivered on its own connection (run in a worker process): (accepted, rejected)."""
    from spatial.sources.deliveries import DeliveryRequest, deliver_file

    with psycopg.connect(libpq_url(url)) as conn:
        report = deliver_file(conn, path, DeliveryRequest(department, path.name, "onemap generate", kind=kind))
    return int(report["accepted"]), int(report["rejected"])


def _files(folder: Path) -> pd.DataFrame:
    """File name -> department and kind, from the answer key."""
    key = pd.read_parquet(folder / ANSWER_KEY, columns=["file", "department", "entity_kind"])
    return key.groupby("file")[["department", "entity_kind"]].first()


def planted_from_answer_key(folder: Path) -> pd.DataFrame:
    """The disagreements the writers planted, as onemap.planted_disagreement rows (under the true keys)."""
    key = pd.read_parquet(folder / ANSWER_KEY)
    planted = key[key["planted"]]
    return pd.DataFrame({
        "department": planted["department"].to_numpy(), "entity_kind": planted["entity_kind"].to_numpy(),
        "entity_key": planted["entity_key"].to_numpy(), "attribute": planted["planted_attribute"].to_numpy(),
    }).drop_duplicates()  # fmt: skip


def _start_over_unless_resuming(url: str, dataset: str) -> bool:
    """Whether the district is already born (its last part copied in). A database holding another dataset (or
    none) starts with no deliveries either: re-sent files would otherwise be no-ops against the earlier
    deliveries' hashes, and nothing would be fused."""
    with psycopg.connect(libpq_url(url)) as conn:
        parts = conn.execute("SELECT dataset, chunk_name FROM onemap.load_progress").fetchall()
        if {name for name, _ in parts} != {dataset}:
            tables = ", ".join(f"onemap.{table}" for table in DELIVERY_TABLES)
            conn.execute(f"TRUNCATE {tables} CASCADE")
            return False
    return (dataset, LAST_PART) in parts


def _events_by_code(events: pd.DataFrame, buildings: pd.DataFrame, url: str) -> pd.DataFrame:
    """Events point at the generator's building ids; fusion numbered the buildings itself: map them by code."""
    with psycopg.connect(libpq_url(url)) as conn:
        ids: dict[str, int] = dict(conn.execute("SELECT code, id FROM onemap.building").fetchall())
    born = buildings.set_index("id")["code"].loc[events["building_id"]].map(ids).to_numpy()
    kept = ~pd.isna(born)  # a building fusion refused has no events
    return events[kept].assign(building_id=born[kept].astype(np.int64))


def born_district(
    url: str,
    folder: Path,
    scale: str = "small",
    seed: int = 42,
    disagreement_rate: float = 0.02,
    key_damage_rate: float = KEY_DAMAGE_RATE,
    progress: bool = True,
    announce: Callable[[str], Any] = print,
) -> BornReport:
    """Write the district's deliveries into `folder` (unless already there), deliver them and fuse."""
    from spatial.fusion.engine import run_fusion

    spec = district_spec(scale, seed, disagreement_rate)
    check_key_damage_rate(key_damage_rate)
    dataset = f"{spec.dataset}:keys={key_damage_rate}{BORN_SUFFIX}"
    report = BornReport(folder)
    if _start_over_unless_resuming(url, dataset):
        announce(f"the {scale} district is already born from its deliveries")
        return report
    started = time.perf_counter()
    tables = entity_tables(spec)
    load_parts(url, dataset, [("admin_area", "admin_area", tables["admin_area"])], progress=False)
    if not (folder / ANSWER_KEY).exists():
        announce(f"writing the departments' deliveries into {folder}")
        write_deliveries(
            department_tables(spec, tables, sources=DELIVERED_SPECS),
            folder,
            key_damage_rate,
            np.random.default_rng([seed, KEY_DAMAGE_STREAM]),
        )
    report.seconds["write"] = time.perf_counter() - started
    files = _files(folder)
    report.files = len(files)
    deliver_s = fuse_s = 0.0
    for group in FUSION_GROUPS:
        step = time.perf_counter()
        chosen = files[files["department"].isin(group)]
        with ProcessPoolExecutor(DELIVERY_WORKERS) as pool:
            futures = [
                pool.submit(_deliver_one, url, folder / str(name), str(department), str(kind))
                for name, (department, kind) in chosen.iterrows()
            ]
            for future in tqdm(futures, unit="file", disable=not progress, desc=f"delivering {', '.join(group)}"):
                accepted, rejected = future.result()
                report.delivered_rows += accepted
                report.rejected_rows += rejected
        fused_at = time.perf_counter()
        deliver_s += fused_at - step
        announce(f"fusing what {', '.join(group)} delivered")
        with psycopg.connect(libpq_url(url)) as conn:
            fusion = run_fusion(conn)
        report.fusion_steps.append(fusion.step_seconds)
        for count, value in fusion.counts.items():
            if count.startswith("created"):
                report.created[count] = report.created.get(count, 0) + int(value or 0)
        fuse_s += time.perf_counter() - fused_at
    report.seconds.update(deliver=deliver_s, fuse=fuse_s)
    step = time.perf_counter()
    events = generate_events(spec.scale.events, tables["building"], spec.rng("events"))
    after: Iterable[tuple[str, str, pd.DataFrame]] = [
        ("event", "event", _events_by_code(events, tables["building"], url)),
        (LAST_PART, "planted_disagreement", planted_from_answer_key(folder)),
    ]
    load_parts(url, dataset, after, progress=False)
    report.seconds["events"] = time.perf_counter() - step
    return report
