"""One render at a time per tile: callers that miss the cache on a tile already being rendered wait for that
render instead of starting their own.

Right after an edit purges a popular tile, every reader of it misses at once; without this, each of them
rendered the same tile (a z10 tile of the whole district, sixteen times over) while the background re-render
made it a seventeenth time. A flight is named by the tile's key *and*
the cache generation read before rendering, so a caller arriving after a newer edit never joins a render that
started before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Flights(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def once(self, flight: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """``make()``'s result, shared with every caller asking for the same flight while it runs. A caller
        that waited for a flight whose owner was cancelled (its client went away) makes the result itself."""
        while (running := self._running.get(flight)) is not None:
            try:
                return await asyncio.shield(running)  # a waiter's own cancellation leaves the flight running
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this caller was cancelled, not the flight
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._running[flight] = future
        try:
            result = await make()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: with no waiter, asyncio would log it as never retrieved
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[flight]
