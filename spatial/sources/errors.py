"""Why a catalogue import, a delivery, a push or a pull was refused. Each message says what to fix."""

from __future__ import annotations

from spatial.errors import InvalidInput, NotFound, OnemapError


class SourceRefused(InvalidInput):
    """Base of every refused source input (a 4xx)."""


class CatalogueInvalid(SourceRefused):
    """The catalogue workbook cannot be read or holds values that make no sense."""


class MappingInvalid(SourceRefused):
    """A mapping file is malformed, or the delivered file lacks a column the mapping requires."""


class MayNotSend(SourceRefused):
    """The department has no catalogue item for what it sends (an entity kind or attribute)."""


class PushTooLarge(SourceRefused):
    """A pushed batch is over the configured size."""


class BatchRejected(SourceRefused):
    """A pushed batch holds invalid records; nothing of it was written. Carries the per-record results."""

    def __init__(self, message: str, results: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.results = results


class IdempotencyConflict(OnemapError):
    """An Idempotency-Key re-used with a different body."""


class DeliveryNotFound(NotFound):
    pass


class PullFailed(OnemapError):
    """A pull source could not be read (down, refused, malformed); retried later with backoff."""
