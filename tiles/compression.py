"""Gzip for vector tiles, the one place tiles are compressed and decompressed.

ISA-L's igzip (``isal``) at level 1: on a dense z14 tile (460 KB, 4,000 buildings) 0.47 ms against zlib's 2.5 ms
at its fastest level, for 4 % more bytes, so compressing inline costs the event loop less than a hop to a thread
would. ``mtime=0``: one tile always gives the same bytes, so its ETag does not change when it is re-rendered.
"""

from __future__ import annotations

from isal import igzip

LEVEL = 1


def gzip_tile(body: bytes) -> bytes:
    return igzip.compress(body, LEVEL, mtime=0)


# gzip of an empty body is 20 bytes (header and trailer); anything this short may be an empty tile.
EMPTY_GZIP = 32


def is_empty_tile(body: bytes) -> bool:
    """Whether a stored tile holds nothing (an MVT with no feature, gzip-compressed or not)."""
    return len(body) <= EMPTY_GZIP and not unzip(body)


def unzip(body: bytes) -> bytes:
    """The tile's bytes as they are when not gzip-compressed, decompressed when they are."""
    return igzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
