"""Door-access events for the generated district: a gate on a share of the urban-village buildings, 30 days of
face matches and card swipes by their registered residents (out in the morning, in in the evening), and planted
anomalies written to ``onemap.planted_door_anomaly``: strangers staying several nights, residents never seen,
cards used at several buildings within minutes. Near misses are planted too (too few nights, weak matches,
cards spread over hours), so the rules' precision is measured as well as their recall.

Deterministic for a seed; replaces earlier door-access data. Events go in with COPY, one Beijing day at a time,
each day's per-day aggregates merged right after its COPY."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from spatial.beijing_time import beijing_date, day_start
from spatial.door_access.store import aggregate_written, ensure_partitions, rebuild_last_seen

COLUMNS = ("occurred_at", "device_code", "building_id", "direction", "key_kind", "person_key", "confidence")


@dataclass(frozen=True)
class DoorPlan:
    days: int = 30
    gate_share: float = 0.3  # of urban-village buildings
    daily_presence: float = 0.85
    card_share: float = 0.2  # residents who also swipe a card
    unregistered: int = 8
    moved_out: int = 8
    shared_cards: int = 8


def _frame(
    times: np.ndarray,
    buildings: np.ndarray,
    direction: np.ndarray | str,
    kind: str,
    keys: np.ndarray,
    confidence: np.ndarray,
) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame(
        {
            "occurred_at": times,
            "building_id": buildings,
            "direction": np.broadcast_to(direction, n),
            "key_kind": kind,
            "person_key": keys,
            "confidence": np.round(confidence, 3),
        }
    )


def _local_day_starts(end: dt.datetime, days: int) -> np.ndarray:
    """UTC instants of the Beijing midnights of the period's days (numpy datetime64[s])."""
    last = beijing_date(end)
    firsts = [day_start(last - dt.timedelta(days=d)) for d in range(days, -1, -1)]
    return np.array([f.astimezone(dt.UTC).replace(tzinfo=None) for f in firsts], dtype="datetime64[s]")


def _seconds(rng: np.random.Generator, n: int, from_hour: float, to_hour: float) -> np.ndarray:
    return (rng.uniform(from_hour, to_hour, n) * 3600).astype("timedelta64[s]")


def _residents(conn: psycopg.Connection, gated: list[int], start: dt.datetime) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT r.building_id, p.id_number, r.valid_from <= %s::date AS settled FROM onemap.residence r "
        "JOIN onemap.person p ON p.id = r.person_id WHERE r.valid_to IS NULL AND r.building_id = ANY(%s) "
        "ORDER BY r.building_id, p.id_number",
        (beijing_date(start), gated),
    ).fetchall()
    return pd.DataFrame(rows, columns=["building_id", "id_number", "settled"])


def _strangers(conn: psycopg.Connection, gated: list[int], count: int, rng: np.random.Generator) -> list[str]:
    """People with no current residence in any gated building."""
    rows = conn.execute(
        "SELECT p.id_number FROM onemap.person p WHERE NOT EXISTS (SELECT 1 FROM onemap.residence r "
        "WHERE r.person_id = p.id AND r.valid_to IS NULL AND r.building_id = ANY(%s)) ORDER BY p.id LIMIT %s",
        (gated, count * 20),
    ).fetchall()
    picked = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    return [rows[i][0] for i in picked]


def generate_door_access(
    conn: psycopg.Connection, seed: int = 42, plan: DoorPlan = DoorPlan(), end: dt.datetime | None = None
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    end = (end or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    start = end - dt.timedelta(days=plan.days)
    buildings = conn.execute(
        "SELECT id, code FROM onemap.building WHERE use = 'urban_village' ORDER BY id"
    ).fetchall()
    chosen = [b for b in buildings if rng.random() < plan.gate_share] or buildings[:3]
    gated = [b[0] for b in chosen]
    codes = {b[0]: b[1] for b in chosen}
    residents = _residents(conn, gated, start)
    midnights = _local_day_starts(end, plan.days)
    planted: list[tuple[str, str]] = []

    # Residents never seen at their gate: the planted moved-out.
    settled = residents.index[residents["settled"]].to_numpy()
    gone = rng.choice(settled, size=min(plan.moved_out, len(settled)), replace=False)
    planted += [
        ("moved_out", f"{codes[residents.at[i, 'building_id']]}:{residents.at[i, 'id_number']}") for i in gone
    ]
    seen = residents.drop(index=gone).reset_index(drop=True)
    holders, cards = _card_holders(seen, plan, rng)
    extra, key = _planted_strangers(conn, gated, codes, midnights, plan, rng)
    planted += key
    more, key = _planted_cards(gated, midnights, plan, rng)
    planted += key
    planted_events = pd.concat(extra + more, ignore_index=True) if extra or more else None

    def days() -> Iterator[pd.DataFrame]:
        # One Beijing day at a time: the full district's 30 days are ~70M events, too many to hold at once.
        for midnight in midnights:
            frames = _daily(seen, midnight, plan, rng) + _swipes(holders, cards, midnight, rng)
            if planted_events is not None:
                that_day = (planted_events["occurred_at"] >= midnight) & (
                    planted_events["occurred_at"] < midnight + np.timedelta64(1, "D")
                )
                frames.append(planted_events[that_day])
            events = pd.concat(frames, ignore_index=True)
            window = (events["occurred_at"] > np.datetime64(start.replace(tzinfo=None))) & (
                events["occurred_at"] <= np.datetime64(end.replace(tzinfo=None))
            )
            events = events[window].sort_values("occurred_at", kind="stable")
            events["device_code"] = events["building_id"].map(lambda b: f"GATE-{codes[b]}")
            yield events

    written = _write(conn, days(), codes, planted, start, end)
    rebuild_last_seen(conn)  # once over all the days written, not an upsert of every key each day
    return {"devices": len(codes), "events": written, "planted": len(planted), "residents": len(residents)}


def _daily(
    seen: pd.DataFrame, midnight: np.datetime64, plan: DoorPlan, rng: np.random.Generator
) -> list[pd.DataFrame]:
    """The residents present that day: out in the morning, in in the evening."""
    present = np.nonzero(rng.random(len(seen)) < plan.daily_presence)[0]
    buildings = seen["building_id"].to_numpy()[present]
    keys = seen["id_number"].to_numpy()[present]
    n = len(present)
    outs = _frame(midnight + _seconds(rng, n, 6.5, 9.5), buildings, "o", "id_number", keys,
                  rng.uniform(0.85, 0.99, n))
    ins = _frame(midnight + _seconds(rng, n, 17.5, 21.5), buildings, "i", "id_number", keys,
                 rng.uniform(0.85, 0.99, n))
    return [outs, ins]


def _card_holders(seen: pd.DataFrame, plan: DoorPlan, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    holders = seen.sample(frac=plan.card_share, random_state=int(rng.integers(1 << 31)))
    cards = np.array([f"C{int(x):010d}" for x in rng.choice(10**9, size=len(holders), replace=False)])
    return holders, cards


def _swipes(
    holders: pd.DataFrame, cards: np.ndarray, midnight: np.datetime64, rng: np.random.Generator
) -> list[pd.DataFrame]:
    """Half the card holders swipe in around noon that day."""
    holder = np.nonzero(rng.random(len(holders)) < 0.5)[0]
    times = midnight + _seconds(rng, len(holder), 12.0, 13.5)
    return [_frame(times, holders["building_id"].to_numpy()[holder], "i", "card", cards[holder],
                   np.ones(len(holder)))]


def _nights(rng: np.random.Generator, midnights: np.ndarray, count: int) -> np.ndarray:
    """`count` distinct late evenings among the last six full days."""
    recent = midnights[-7:-1]
    return np.sort(rng.choice(recent, size=count, replace=False)) + _seconds(rng, count, 22.5, 23.9)


def _planted_strangers(
    conn: psycopg.Connection,
    gated: list[int],
    codes: dict[int, str],
    midnights: np.ndarray,
    plan: DoorPlan,
    rng: np.random.Generator,
) -> tuple[list[pd.DataFrame], list[tuple[str, str]]]:
    people = _strangers(conn, gated, plan.unregistered * 3, rng)
    frames, key = [], []
    for i, person in enumerate(people):
        building = gated[int(rng.integers(len(gated)))]
        # A third stay 3-5 nights (planted); a third only 2 nights; a third are weak matches: near misses.
        kind = i % 3
        nights = int(rng.integers(3, 6)) if kind != 1 else 2
        confidence = rng.uniform(0.9, 0.99, nights) if kind != 2 else rng.uniform(0.5, 0.7, nights)
        frames.append(
            _frame(
                _nights(rng, midnights, nights),
                np.full(nights, building),
                "i",
                "id_number",
                np.full(nights, person),
                confidence,
            )
        )
        if kind == 0:
            key.append(("unregistered_resident", f"{codes[building]}:{person}"))
    return frames, key


def _planted_cards(
    gated: list[int], midnights: np.ndarray, plan: DoorPlan, rng: np.random.Generator
) -> tuple[list[pd.DataFrame], list[tuple[str, str]]]:
    frames: list[pd.DataFrame] = []
    key: list[tuple[str, str]] = []
    if len(gated) < 3:
        return frames, key
    for i in range(plan.shared_cards * 2):
        card = f"D{i:09d}"
        where = rng.choice(gated, size=3, replace=False)
        day = midnights[int(rng.integers(1, len(midnights) - 1))]
        first = day + _seconds(rng, 1, 8.0, 20.0)[0]
        # Planted: three buildings within 40 minutes; near miss: the same three over three hours.
        spread = np.array([0, 15, 40] if i % 2 == 0 else [0, 80, 170], dtype="timedelta64[m]")
        frames.append(_frame(first + spread, where, "i", "card", np.full(3, card), np.ones(3)))
        if i % 2 == 0:
            key.append(("shared_card", f"card:{card}"))
    return frames, key


def _write(
    conn: psycopg.Connection,
    chunks: Iterable[pd.DataFrame],
    codes: dict[int, str],
    planted: list[tuple[str, str]],
    start: dt.datetime,
    end: dt.datetime,
) -> int:
    with conn.transaction():
        conn.execute(
            "TRUNCATE onemap.door_access_event, onemap.door_face_day, onemap.door_card_day, "
            "onemap.planted_door_anomaly"
        )
        conn.execute("DELETE FROM onemap.door_device")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO onemap.door_device (code, building_id, name) VALUES (%s, %s, %s)",
                [(f"GATE-{code}", building, f"{code} 视频门禁") for building, code in codes.items()],
            )
            cursor.executemany(
                "INSERT INTO onemap.planted_door_anomaly VALUES (%s, %s) ON CONFLICT DO NOTHING", planted
            )
        first, last = beijing_date(start), beijing_date(end)
        ensure_partitions(conn, [first + dt.timedelta(days=d) for d in range((last - first).days + 1)])
        written = 0
        for events in chunks:
            if events.empty:
                continue
            frame = events[list(COLUMNS)].copy()
            frame["occurred_at"] = frame["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            out = io.StringIO()
            frame.to_csv(out, index=False, header=False)
            with conn.cursor().copy(
                f"COPY onemap.door_access_event ({', '.join(COLUMNS)}) FROM STDIN (FORMAT csv)"
            ) as copy:
                copy.write(out.getvalue())
            written += len(frame)
            # A chunk is one Beijing day: its aggregates are built while its events are still in memory.
            _aggregate_chunk(conn, events)
    return written


def _aggregate_chunk(conn: psycopg.Connection, events: pd.DataFrame) -> None:
    times = events["occurred_at"]
    first = beijing_date(times.min().to_pydatetime().replace(tzinfo=dt.UTC))
    last = beijing_date(times.max().to_pydatetime().replace(tzinfo=dt.UTC))
    aggregate_written(conn, first, last)
