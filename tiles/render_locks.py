"""One background re-render per tile across the server's processes.

Every process purges an edited tile and, with re-rendering on, would render it again: with two workers, each
edit's tiles were rendered twice, and the second render of a dense z13 tile queued the first's readers behind
it on a two-core machine. The processes share the disk cache, so the re-render of a key holds an exclusive
``flock`` on one of a few lock files (by the key's hash) in the cache directory; the process that gets it second
finds the tile on disk, stamped after the edit (``tiles/purge_history.py``), and takes it instead of rendering.
``flock`` is released by the kernel when its holder dies, so a killed worker leaves no lock behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

from tiles.cache import TileKey

BUCKETS = 64  # two keys that share a lock file only wait for each other's render


class RenderLocks:
    def __init__(self, disk: Path | None) -> None:
        self.directory = disk / ".locks" if disk is not None else None  # no layer id starts with a dot

    @contextlib.asynccontextmanager
    async def hold(self, key: TileKey) -> AsyncIterator[None]:
        """Hold the key's lock across processes (nothing without a disk cache: one process, its own flights)."""
        if self.directory is None:
            yield
            return
        bucket = zlib.crc32(str(key.relative_path()).encode()) % BUCKETS
        path = self.directory / f"{bucket:02d}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only or full disk: render without coordinating, as without a disk cache
            yield
            return
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)  # blocks only this task's thread
            yield
        finally:
            os.close(fd)  # closing releases the lock
