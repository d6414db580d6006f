"""One LISTEN per server process for the SSE streams: on each NOTIFY from the change feed the process reads the
new feed rows once and hands each to the subscribers allowed to see it. Every worker listens, so a client gets
its events from whichever worker it is connected to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from spatial.cases.feed import CHANNEL, FeedScope, feed_since, feed_span

log = logging.getLogger("onemap.api.changes")
RETRY_SECONDS = 2.0
POLL_SECONDS = (
    5.0  # also read the feed this often: a NOTIFY lost with a dropped connection costs seconds only
)
QUEUE_SIZE = 1000


@dataclass(eq=False)
class Subscription:
    stream: str
    scope: FeedScope
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class ChangeBroker:
    def __init__(self, url: str) -> None:
        self.url = url
        self.position = 0  # the last feed id handed out
        self.subscribers: set[Subscription] = set()
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="onemap-change-broker")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)

    async def close(self) -> None:
        for subscription in list(self.subscribers):
            self._end(subscription)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, stream: str, scope: FeedScope) -> Subscription:
        subscription = Subscription(stream, scope)
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def _end(self, subscription: Subscription) -> None:
        """A subscriber too slow to keep up is cut off; it resumes with Last-Event-ID."""
        subscription.overflowed = True
        self.subscribers.discard(subscription)
        with contextlib.suppress(asyncio.QueueFull):
            subscription.queue.put_nowait(None)

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, row_factory=dict_row
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if not self.ready.is_set():
                        self.position = (await feed_span(conn))[1]
                        self.ready.set()
                    await self._deliver(conn)
                    while True:
                        with contextlib.suppress(TimeoutError):
                            async for _ in conn.notifies(timeout=POLL_SECONDS, stop_after=1):
                                pass
                        await self._deliver(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: catch up from the position once back
                log.warning("change feed: listening connection lost (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS)

    async def _deliver(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while True:
            rows = await feed_since(conn, self.position)
            for row in rows:
                self.position = row["id"]
                self.publish(row)
            if len(rows) < 1000:
                return

    def publish(self, row: dict[str, Any]) -> None:
        for subscription in list(self.subscribers):
            if subscription.stream == row["stream"] and subscription.scope.admits(row):
                try:
                    subscription.queue.put_nowait(row)
                except asyncio.QueueFull:
                    self._end(subscription)


async def start_change_broker(url: str) -> ChangeBroker:
    broker = ChangeBroker(url)
    await broker.start()
    return broker
