"""Which changes a process has purged recently, so that a tile another process wrote to the shared disk cache
is taken only if no change it missed touches it.

Every process purges its memory and the disk for each change, each when its own notification arrives, a few
milliseconds apart. A render that began before a commit in process A may store its (old) tile on disk after
process B purged for that commit and before A did; B, missing on the tile in memory, would read it from disk and
serve it until the next edit. So each disk tile carries the id of the last change its writer had applied when it
began rendering (its stamp), and a reader takes it only when no change after the stamp touched the tile: those
changes are remembered here, per layer with their boxes, back to the watermark the process started from. Tiles
older than that watermark are trusted as the disk cache has always been (the catch-up purged what they missed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

Box = tuple[float, float, float, float]
REMEMBERED = 50_000  # changes; beyond this a stamp older than the oldest one left is not trusted


class PurgeHistory:
    def __init__(self) -> None:
        self._changes: deque[tuple[int, frozenset[str], tuple[Box, ...] | None]] = deque()
        self._trusted_to = 0  # stamps up to this change id are as fresh as the disk cache itself
        self._forgotten_to = 0  # changes up to this id were dropped from memory: their boxes are unknown

    def start(self, watermark: int) -> None:
        """Begin from the watermark of the disk cache (on catching up after a (re)connection)."""
        self._changes.clear()
        self._trusted_to = self._forgotten_to = watermark

    def record(self, change_id: int, layers: set[str], boxes: list[Box] | None) -> None:
        """A change this process purged: its layers and boxes (None: the layers whole)."""
        self._changes.append((change_id, frozenset(layers), tuple(boxes) if boxes is not None else None))
        while len(self._changes) > REMEMBERED:
            self._forgotten_to = max(self._forgotten_to, self._changes.popleft()[0])

    def missed_by(self, stamp: int, layers: tuple[str, ...], touches: Callable[[Box], bool]) -> bool:
        """Whether a tile of ``layers`` stamped ``stamp`` may lack a change (``touches``: whether a box reaches
        the tile)."""
        if stamp < self._forgotten_to and self._forgotten_to > self._trusted_to:
            return True
        for change_id, changed, boxes in reversed(self._changes):
            if change_id <= stamp:
                break
            if changed.intersection(layers) and (boxes is None or any(touches(box) for box in boxes)):
                return True
        return False
