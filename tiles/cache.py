"""The tile cache: memory (LRU within a byte budget) in front of disk (which survives restarts).

A key carries everything that changes a tile's bytes: the layers and their catalog versions, the tile
address, and a variant digest of the query (datetime, filter), the caller's visibility class and the
format, so one role never receives another role's tile. Invalidation purges, per changed box, exactly the
cached tiles that box touches (tile plus its buffer) at every zoom, for the layers whose source changed.

A tile rendered while an edit was being applied must not be stored after the purge: ``put`` takes the
generation read before rendering and drops the tile if any of its layers was purged meanwhile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tiles.tms import get_tms, tile_ranges

log = logging.getLogger("onemap.tiles.cache")
Box = tuple[float, float, float, float]


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


@dataclass
class _Memory:
    budget: int
    entries: OrderedDict[TileKey, CachedTile] = field(default_factory=OrderedDict)
    by_tile: dict[tuple[str, int], dict[tuple[int, int], set[TileKey]]] = field(default_factory=dict)
    size: int = 0

    def get(self, key: TileKey) -> CachedTile | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: TileKey, tile: CachedTile) -> None:
        if len(tile.body) > self.budget // 4:
            return
        self.discard(key)
        self.entries[key] = tile
        self.size += len(tile.body)
        self.by_tile.setdefault((key.tms, key.z), {}).setdefault((key.x, key.y), set()).add(key)
        while self.size > self.budget and self.entries:
            self.discard(next(iter(self.entries)))

    def discard(self, key: TileKey) -> None:
        tile = self.entries.pop(key, None)
        if tile is None:
            return
        self.size -= len(tile.body)
        at = self.by_tile.get((key.tms, key.z), {})
        keys = at.get((key.x, key.y))
        if keys is not None:
            keys.discard(key)
            if not keys:
                del at[(key.x, key.y)]

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
        self._lock = threading.Lock()  # raster rendering runs in threads

    # --- reading and writing -------------------------------------------------------------------------------
    def generation(self, layers: Iterable[str]) -> tuple[int, ...]:
        return (self.epoch, *(self.generations.get(layer, 0) for layer in layers))

    def get(self, key: TileKey) -> CachedTile | None:
        if not self.usable:
            return None
        with self._lock:
            found = self.memory.get(key)
        if found is None and self.disk is not None:
            found = self._read_disk(key)
            if found is not None:
                with self._lock:
                    self.memory.put(key, found)
        return dataclasses.replace(found, hit=True) if found is not None else None

    def put(self, key: TileKey, body: bytes, generation: tuple[int, ...]) -> CachedTile:
        tile = CachedTile.of(body)
        with self._lock:
            if not self.usable or self.generation(key.layers) != generation:
                return tile  # purged while rendering: serve it, but do not keep it
            self.memory.put(key, tile)
        if self.disk is not None:
            self._write_disk(key, body)
        return tile

    def _read_disk(self, key: TileKey) -> CachedTile | None:
        assert self.disk is not None
        try:
            return CachedTile.of((self.disk / key.relative_path()).read_bytes())
        except OSError:
            return None

    def _write_disk(self, key: TileKey, body: bytes) -> None:
        assert self.disk is not None
        path = self.disk / key.relative_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(body)
            os.replace(temporary, path)
        except OSError as exc:  # a full or read-only disk degrades to memory-only caching
            log.warning("tile cache: cannot write %s (%s)", path, exc)

    # --- invalidation ---
    def invalidate(self, layers: set[str], boxes: list[Box]) -> int:
        """Purge the cached tiles of ``layers`` that any of ``boxes`` (lon/lat) touches, at every zoom."""
        if not layers or not boxes:
            return 0
        with self._lock:
            for layer in layers:
                self.generations[layer] = self.generations.get(layer, 0) + 1
            purged = 0
            for tms_id, z in list(self.memory.by_tile):
                tms = get_tms(tms_id)
                for box in boxes:
                    for key in self.memory.keys_in(tms_id, z, tile_ranges(tms, box, z, self.margin)):
                        if layers.intersection(key.layers):
                            self.memory.discard(key)
                            purged += 1
        if self.disk is not None:
            purged += self._invalidate_disk(layers, boxes)
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

    def purge_layers(self, layers: set[str]) -> None:
        """Drop every cached tile of these layers (their definition changed)."""
        with self._lock:
            for layer in layers:
                self.generations[layer] = self.generations.get(layer, 0) + 1
            for key in [k for k in self.memory.entries if layers.intersection(k.layers)]:
                self.memory.discard(key)
        if self.disk is not None:
            for layer_dir in _subdirs(self.disk):
                if layers.intersection(part.split("@")[0] for part in layer_dir.name.split("+")):
                    shutil.rmtree(layer_dir, ignore_errors=True)

    def clear(self, disk: bool = False) -> None:
        with self._lock:
            self.epoch += 1
            self.memory = _Memory(self.memory.budget)
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
