"""The tile cache: memory (LRU within a byte budget) in front of disk (which survives restarts).

A key carries everything that changes a tile's bytes: the layers and their catalog versions, the tile
address, and a variant digest of the query (datetime, filter), the caller's visibility class and the
format, so one role never receives another role's tile. Invalidation purges, per changed box, exactly the
cached tiles that box touches (tile plus its buffer) at every zoom, for the layers whose source changed.

A tile rendered while an edit was being applied must not be stored after the purge: ``put`` takes the
generation read before rendering and drops the tile if any of its layers was purged meanwhile. Across processes
the disk copy carries the last change its writer had applied (``tiles/purge_history.py``), and a process reads
it only if no change it has applied since touches the tile.

Each memory entry keeps the recipe that rendered it (a zero-argument coroutine factory made by the tile service
for the very principal, query and address of the key), so that an edit's purge can hand the purged keys to the
background refresher (``tiles/refresh.py``), which renders them again before anyone asks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tiles.flights import Flights
from tiles.purge_history import PurgeHistory
from tiles.render_locks import RenderLocks
from tiles.static_front import publish
from tiles.tms import get_tms, tile_ranges

log = logging.getLogger("onemap.tiles.cache")
Box = tuple[float, float, float, float]
Recipe = Callable[[], Awaitable[bytes]]  # renders a key's stored bytes again, as the request that stored it did
DISK_MAGIC = b"OMT1"  # a disk tile: magic, the writer's applied change id (8 bytes, big-endian), the tile


@dataclass(frozen=True)
class TileKey:
    layers: tuple[str, ...]
    versions: tuple[int, ...]
    tms: str
    z: int
    x: int
    y: int
    variant: str  # digest of query + visibility class + format

    @staticmethod
    def variant_of(*parts: str) -> str:
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()

    @property
    def layer_dir(self) -> str:
        return "+".join(
            f"{layer}@{version}" for layer, version in zip(self.layers, self.versions, strict=True)
        )

    def relative_path(self) -> Path:
        return Path(self.layer_dir, self.tms, str(self.z), str(self.x), str(self.y), f"{self.variant}.tile")


@dataclass(frozen=True)
class CachedTile:
    body: bytes
    etag: str
    hit: bool = False  # served from the cache (reported in the X-Tile-Cache header)

    @classmethod
    def of(cls, body: bytes) -> CachedTile:
        return cls(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class _Entry:
    """A memory entry: the tile, how to render it again (None when it came from disk and no request has
    supplied one yet), and when it was last served (only recently served tiles are worth re-rendering)."""

    __slots__ = ("recipe", "tile", "used")

    def __init__(self, tile: CachedTile, recipe: Recipe | None) -> None:
        self.tile, self.recipe, self.used = tile, recipe, time.monotonic()


@dataclass(frozen=True)
class Purged:
    """A key an edit purged from memory, with what it takes to render it again."""

    key: TileKey
    recipe: Recipe
    used: float  # time.monotonic() of its last use


class PurgeListener(Protocol):
    def purged(self, keys: list[Purged]) -> None: ...

    def forget(self, layers: set[str] | None) -> None: ...


@dataclass
class _Memory:
    budget: int
    entries: OrderedDict[TileKey, _Entry] = field(default_factory=OrderedDict)
    by_tile: dict[tuple[str, int], dict[tuple[int, int], set[TileKey]]] = field(default_factory=dict)
    size: int = 0

    def get(self, key: TileKey, recipe: Recipe | None = None) -> CachedTile | None:
        found = self.entries.get(key)
        if found is None:
            return None
        self.entries.move_to_end(key)
        found.used = time.monotonic()
        if found.recipe is None:
            found.recipe = recipe
        return found.tile

    def put(self, key: TileKey, tile: CachedTile, recipe: Recipe | None = None) -> None:
        if len(tile.body) > self.budget // 4:
            return
        self.discard(key)
        # The recipe references objects the request already held (layers, principal, query, address): a few
        # hundred bytes per entry beside tiles of kilobytes, so the byte budget counts the bodies only.
        self.entries[key] = _Entry(tile, recipe)
        self.size += len(tile.body)
        self.by_tile.setdefault((key.tms, key.z), {}).setdefault((key.x, key.y), set()).add(key)
        while self.size > self.budget and self.entries:
            self.discard(next(iter(self.entries)))

    def discard(self, key: TileKey) -> _Entry | None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return None
        self.size -= len(entry.tile.body)
        at = self.by_tile.get((key.tms, key.z), {})
        keys = at.get((key.x, key.y))
        if keys is not None:
            keys.discard(key)
            if not keys:
                del at[(key.x, key.y)]
        return entry

    def keys_in(self, tms: str, z: int, ranges: Box) -> Iterator[TileKey]:
        at = self.by_tile.get((tms, z))
        if not at:
            return
        xmin, ymin, xmax, ymax = (int(v) for v in ranges)
        if (xmax - xmin + 1) * (ymax - ymin + 1) <= len(at):
            cells: Iterable[tuple[int, int]] = (
                (x, y) for x in range(xmin, xmax + 1) for y in range(ymin, ymax + 1)
            )
        else:
            cells = [c for c in at if xmin <= c[0] <= xmax and ymin <= c[1] <= ymax]
        for cell in cells:
            yield from list(at.get(cell, ()))


class TileCache:
    def __init__(self, memory_bytes: int, disk: Path | None, margin: float) -> None:
        self.memory = _Memory(memory_bytes)
        self.disk = disk
        self.margin = margin  # the MVT buffer as a fraction of the tile: a change there shows in the tile
        self.generations: dict[str, int] = {}
        self.epoch = 0
        self.usable = True  # False while invalidations cannot be received: serve uncached, store nothing
        self.refresher: PurgeListener | None = None  # told of purged keys, to render them again
        self.applied = 0  # the last tile change this process has purged for (set by the invalidation listener)
        self.history = PurgeHistory()
        self.public_variant: str | None = None  # anonymous plain vector tiles, also written for nginx
        self._lock = threading.Lock()  # raster rendering runs in threads
        self._flights: Flights[tuple[CachedTile, bool]] = Flights()
        self._locks = RenderLocks(disk)

    # --- reading and writing -------------------------------------------------------------------------------
    def generation(self, layers: Iterable[str]) -> tuple[int, ...]:
        return (self.epoch, *(self.generations.get(layer, 0) for layer in layers))

    def get(self, key: TileKey, recipe: Recipe | None = None) -> CachedTile | None:
        """The cached tile; ``recipe`` (how to render it again) is kept with an entry that has none."""
        if not self.usable:
            return None
        with self._lock:
            found = self.memory.get(key, recipe)
        if found is None and self.disk is not None:
            found = self._read_disk(key)
            if found is not None:
                with self._lock:
                    self.memory.put(key, found, recipe)
                self._publish(key, found.body)  # stored before the static front was turned on, or by a peer
        return dataclasses.replace(found, hit=True) if found is not None else None

    def put(
        self, key: TileKey, body: bytes, generation: tuple[int, ...], recipe: Recipe | None = None
    ) -> CachedTile:
        return self.store(key, body, generation, recipe)[0]

    def store(
        self,
        key: TileKey,
        body: bytes,
        generation: tuple[int, ...],
        recipe: Recipe | None = None,
        stamp: int | None = None,
    ) -> tuple[CachedTile, bool]:
        """``put``, also saying whether the tile was kept (False: purged while rendering). ``stamp``: the
        change id applied when rendering began (default: now, for a tile rendered before the call)."""
        tile = CachedTile.of(body)
        with self._lock:
            if not self.usable or self.generation(key.layers) != generation:
                return tile, False  # purged while rendering: serve it, but do not keep it
            self.memory.put(key, tile, recipe)
        if self.disk is not None:
            self._write_disk(key, body, self.applied if stamp is None else stamp)
            self._publish(key, body)
        return tile, True

    async def fill(
        self, key: TileKey, render: Recipe, recipe: Recipe | None = None
    ) -> tuple[CachedTile, bool]:
        """Render the key and ``store`` it, once for every caller that misses on it meanwhile (requests and the
        background re-render alike): they share that render's tile and whether it was kept. Once across
        processes too: a process that waited for another's render of the key takes the tile it stored."""

        async def render_and_store() -> tuple[CachedTile, bool]:
            async with self._locks.hold(os.fspath(key.relative_path())):  # see rendering_elsewhere
                generation = self.generation(key.layers)  # before rendering: an edit meanwhile drops the tile
                stamp = self.applied
                found = self.get(key, recipe)
                if found is not None:  # another process rendered it while we waited, after every edit we know
                    return found, True
                return self.store(key, await render(), generation, recipe, stamp)

        return await self._flights.once((key, self.generation(key.layers)), render_and_store)

    def rendering_elsewhere(self, key: TileKey) -> bool:
        """Whether a render of the key (or of one sharing its lock) is under way, in this process or another."""
        return self._locks.busy(os.fspath(key.relative_path()))

    def _publish(self, key: TileKey, body: bytes) -> None:
        if self.disk is not None and key.variant == self.public_variant and len(key.layers) == 1:
            publish(self.disk, key.layers[0], key.layer_dir, key.relative_path().parent, body)

    def holds(self, key: TileKey) -> bool:
        """Whether memory holds the key (a request rendered it, or a re-render already did)."""
        with self._lock:
            return key in self.memory.entries

    def _read_disk(self, key: TileKey) -> CachedTile | None:
        assert self.disk is not None
        try:
            data = (self.disk / key.relative_path()).read_bytes()
        except OSError:
            return None
        if not data.startswith(DISK_MAGIC):  # written by an older onemap: no stamp to check
            return None
        stamp = int.from_bytes(data[4:12], "big")
        if self.history.missed_by(stamp, key.layers, lambda box: self._touches(key, box)):
            return None  # written from before a change this process has purged: render it again
        return CachedTile.of(data[12:])

    def _touches(self, key: TileKey, box: Box) -> bool:
        xmin, ymin, xmax, ymax = tile_ranges(get_tms(key.tms), box, key.z, self.margin)
        return xmin <= key.x <= xmax and ymin <= key.y <= ymax

    def _write_disk(self, key: TileKey, body: bytes, stamp: int) -> None:
        assert self.disk is not None
        path = self.disk / key.relative_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(DISK_MAGIC + stamp.to_bytes(8, "big") + body)
            os.replace(temporary, path)
        except OSError as exc:  # a full or read-only disk degrades to memory-only caching
            log.warning("tile cache: cannot write %s (%s)", path, exc)

    # --- invalidation ---
    def invalidate(self, layers: set[str], boxes: list[Box], change_id: int | None = None) -> int:
        """Purge the cached tiles of ``layers`` that any of ``boxes`` (lon/lat) touches, at every zoom, for the
        tile change ``change_id`` (the last of them, when several are purged together)."""
        if not layers or not boxes:
            return 0
        again: list[Purged] = []
        with self._lock:
            if change_id is not None:
                self.history.record(change_id, layers, boxes)
            for layer in layers:
                self.generations[layer] = self.generations.get(layer, 0) + 1
            purged = 0
            for tms_id, z in list(self.memory.by_tile):
                tms = get_tms(tms_id)
                for box in boxes:
                    for key in self.memory.keys_in(tms_id, z, tile_ranges(tms, box, z, self.margin)):
                        if layers.intersection(key.layers):
                            entry = self.memory.discard(key)
                            purged += 1
                            if entry is not None and entry.recipe is not None:
                                again.append(Purged(key, entry.recipe, entry.used))
        if self.disk is not None:
            purged += self._invalidate_disk(layers, boxes)
        if again and self.refresher is not None:
            self.refresher.purged(again)
        return purged

    def _invalidate_disk(self, layers: set[str], boxes: list[Box]) -> int:
        assert self.disk is not None
        purged = 0
        for layer_dir in _subdirs(self.disk):
            if not layers.intersection(part.split("@")[0] for part in layer_dir.name.split("+")):
                continue
            for tms_dir in _subdirs(layer_dir):
                tms = get_tms(tms_dir.name)
                for zoom_dir in _subdirs(tms_dir):
                    z = int(zoom_dir.name)
                    for box in boxes:
                        purged += _purge_range(zoom_dir, tile_ranges(tms, box, z, self.margin))
        return purged

    def purge_layers(self, layers: set[str], change_id: int | None = None) -> None:
        """Drop every cached tile of these layers (their definition changed, or a change's boxes were unusable)."""
        with self._lock:
            if change_id is not None:
                self.history.record(change_id, layers, None)
            for layer in layers:
                self.generations[layer] = self.generations.get(layer, 0) + 1
            for key in [k for k in self.memory.entries if layers.intersection(k.layers)]:
                self.memory.discard(key)
        if self.refresher is not None:  # a layer's definition changed: its old recipes must not be rendered
            self.refresher.forget(layers)
        if self.disk is not None:
            for layer_dir in _subdirs(self.disk):
                if layers.intersection(part.split("@")[0] for part in layer_dir.name.split("+")):
                    shutil.rmtree(layer_dir, ignore_errors=True)

    def clear(self, disk: bool = False) -> None:
        with self._lock:
            self.epoch += 1
            self.memory = _Memory(self.memory.budget)
        if self.refresher is not None:
            self.refresher.forget(None)
        if disk and self.disk is not None:
            for child in _subdirs(self.disk):
                shutil.rmtree(child, ignore_errors=True)


def _subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


# An edit touches a tile or two per zoom: naming those few paths is cheaper than listing every directory of
# a zoom level, which made each write's purge grow with the disk cache. Wide ranges (a layer-wide change at
# high zoom) still list.
DIRECT_PURGE_CELLS = 64


def _purge_range(zoom_dir: Path, ranges: tuple[int, int, int, int]) -> int:
    xmin, ymin, xmax, ymax = ranges
    # Plain strings and os.path: every edit runs this per cached zoom in every process, and pathlib's objects
    # made it a fifth of a worker's time under a stream of writes.
    base = os.fspath(zoom_dir)
    if (xmax - xmin + 1) * (ymax - ymin + 1) <= DIRECT_PURGE_CELLS:
        cells = [f"{base}/{x}/{y}" for x in range(xmin, xmax + 1) for y in range(ymin, ymax + 1)]
        found = [cell for cell in cells if os.path.isdir(cell)]
    else:
        found = [
            y_dir.path
            for x_dir in _scan_dirs(base)
            if x_dir.name.isdigit() and xmin <= int(x_dir.name) <= xmax
            for y_dir in _scan_dirs(x_dir.path)
            if y_dir.name.isdigit() and ymin <= int(y_dir.name) <= ymax
        ]
    for cell in found:
        shutil.rmtree(cell, ignore_errors=True)
    return len(found)


def _scan_dirs(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return [entry for entry in entries if entry.is_dir()]
    except OSError:
        return []
