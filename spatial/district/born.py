"""The district born from its deliveries: the generator writes what each department would send (in its own
format, spatial.district.deliveries), the files are delivered as any department's are (spatial.sources), and
fusion makes the archives from them. Only the administrative areas (the map's frame, not an archive), the events
and the answer key's planted disagreements are copied in directly. The call behind ``onemap generate
--from-deliveries`` and ``onemap demo``.

The steps overlap where they can (two cores: one writing, the others delivering; fusion in the database while
the next group is delivered): each file of the first group is delivered as soon as it is written, and the second
group's files as soon as the first fusion run has taken its high-water mark, so their records wait for the second.

Resumable at every step: written files are kept (the answer key is written last; files delivered before it was
are forgotten with their deliveries and written again), a file delivered before is a no-op (its content hash),
fusion takes only what it has not fused, and copied parts are recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from tqdm import tqdm

from spatial.database import libpq_url
from spatial.district.deliveries import ANSWER_KEY, KEY_DAMAGE_RATE, DeliveredFile, write_deliveries
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
# What a district born again from scratch empties besides the tables load_parts empties. The fusion runs too:
# their high-water marks would otherwise hide the new records (their ids may start again from 1).
DELIVERY_TABLES = ("source_delivery", "source_record", "attribute_provenance", "fusion_rejection", "fusion_run",
                   "source_resolution", "verification_issue")  # fmt: skip


@dataclass
class BornReport:
    """`seconds` per step on the critical path, adding up to the whole: writing (the first group's deliveries
    running beside it), waiting for deliveries still running, fusing (the next group delivered beside it), the
    events and planted disagreements copied in."""

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


def _files(folder: Path) -> list[DeliveredFile]:
    """The files written before, from the answer key."""
    key = pd.read_parquet(folder / ANSWER_KEY, columns=["file", "department", "entity_kind", "row"])
    files = key.groupby("file").agg(department=("department", "first"), kind=("entity_kind", "first"),
                                    rows=("row", "max"))  # fmt: skip
    return [DeliveredFile(str(f.department), folder / str(name), int(f.rows), str(f.kind))
            for name, f in files.iterrows()]  # fmt: skip


class _GroupedDeliveries:
    """Files delivered by a pool of worker processes, group by group: a group's files are held until it is
    started, then delivered in the background."""

    def __init__(self, pool: ProcessPoolExecutor, url: str) -> None:
        self._pool, self._url = pool, url
        self._held: list[list[DeliveredFile]] = [[] for _ in FUSION_GROUPS]
        self._running: list[list[Future[tuple[int, int]]]] = [[] for _ in FUSION_GROUPS]
        self._started = [False for _ in FUSION_GROUPS]
        self.files = 0

    def add(self, file: DeliveredFile) -> None:
        group = next((n for n, departments in enumerate(FUSION_GROUPS) if file.department in departments), None)
        if group is None:
            raise ValueError(f"{file.department} is in no fusion group: add it to FUSION_GROUPS")
        self.files += 1
        self._held[group].append(file)
        if self._started[group]:
            self.start(group)

    def start(self, group: int) -> None:
        self._started[group] = True
        for file in self._held[group]:
            self._running[group].append(
                self._pool.submit(_deliver_one, self._url, file.path, file.department, file.entity_kind)
            )
        self._held[group].clear()

    def wait(self, group: int, report: BornReport, progress: bool) -> None:
        self.start(group)
        description = f"delivering {', '.join(FUSION_GROUPS[group])}"
        for future in tqdm(self._running[group], unit="file", disable=not progress, desc=description):
            accepted, rejected = future.result()
            report.delivered_rows += accepted
            report.rejected_rows += rejected


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
            _forget_deliveries(conn)
            return False
    return (dataset, LAST_PART) in parts


def _forget_deliveries(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"TRUNCATE {', '.join(f'onemap.{table}' for table in DELIVERY_TABLES)} CASCADE")


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
    from spatial.fusion.engine import high_water_mark, run_fusion

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
    with ProcessPoolExecutor(DELIVERY_WORKERS) as pool:
        deliveries = _GroupedDeliveries(pool, url)
        deliveries.start(0)
        if (folder / ANSWER_KEY).exists():
            for file in _files(folder):
                deliveries.add(file)
        else:
            announce(f"writing the departments' deliveries into {folder}, each delivered once written")
            # Files delivered as they were written by a write that did not finish (no answer key) are written
            # again, perhaps not to the same bytes (workbooks and GeoPackages carry their time of writing): what
            # was delivered of them goes, or it would be delivered twice. Fusion runs only once all are written.
            with psycopg.connect(libpq_url(url)) as conn:
                _forget_deliveries(conn)
            write_deliveries(
                department_tables(spec, tables, sources=DELIVERED_SPECS),
                folder,
                key_damage_rate,
                np.random.default_rng([seed, KEY_DAMAGE_STREAM]),
                written=deliveries.add,
            )
        report.files = deliveries.files
        report.seconds["write"] = time.perf_counter() - started
        deliver_s = fuse_s = 0.0
        for number, group in enumerate(FUSION_GROUPS):
            step = time.perf_counter()
            deliveries.wait(number, report, progress)
            fused_at = time.perf_counter()
            deliver_s += fused_at - step
            announce(f"fusing what {', '.join(group)} delivered")
            with psycopg.connect(libpq_url(url)) as conn:
                upto = high_water_mark(conn)
                if number + 1 < len(FUSION_GROUPS):
                    deliveries.start(number + 1)  # delivered during this run, above its mark: fused by the next
                fusion = run_fusion(conn, upto=upto)
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
