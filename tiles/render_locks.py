"""One render per tile across the server's processes.

Within a process a tile's concurrent misses share one render (``tiles/flights.py``); across processes each
rendered it again: after an edit both workers re-rendered every purged tile, and the second render of a dense
z13 tile queued the first one's readers behind it on a two-core machine. The processes share the disk cache, so
a render holds an exclusive ``flock`` on one of many lock files (by the key's path) in the cache directory; the
process that gets it second finds the tile on disk, stamped after the edit (``tiles/purge_history.py``), and
takes it instead of rendering. ``flock`` is released by the kernel when its holder dies, so a killed worker
leaves no lock behind; it is polled, not waited for in a thread, so waiting renders hold no executor thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

BUCKETS = 4096  # keys that share a lock file wait for each other: rare among a few dozen renders at a time
POLL_SECONDS = 0.005


class RenderLocks:
    def __init__(self, disk: Path | None) -> None:
        self.directory = disk / ".locks" if disk is not None else None  # no layer id starts with a dot

    def busy(self, name: str) -> bool:
        """Whether another render holds the tile's lock now (a hint: it may be released the next moment)."""
        if self.directory is None:
            return False
        try:
            fd = os.open(self._path(name), os.O_RDWR)
        except OSError:  # no lock file yet: nobody has rendered a tile of this bucket
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{zlib.crc32(name.encode()) % BUCKETS:04d}"

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """Hold the lock of a tile (its cache path) across processes; nothing without a disk cache (one
        process: its flights suffice)."""
        if self.directory is None:
            yield
            return
        path = self._path(name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only or full disk: render without coordinating, as without a disk cache
            yield
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(POLL_SECONDS)
            yield
        finally:
            os.close(fd)  # closing releases the lock
