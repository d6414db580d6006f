"""What a tile request asks beyond z/x/y: ``datetime`` and a CQL2 ``filter``, normalised so that it can be
part of a cache key (two spellings of one request share cache entries only when their text is identical)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class TileQuery:
    datetime: str | None = None
    filter: str | None = None
    filter_lang: str | None = None

    @classmethod
    def of(cls, datetime: str | None, filter: str | None, filter_lang: str | None) -> TileQuery:
        return cls(
            (datetime or "").strip() or None,
            (filter or "").strip() or None,
            (filter_lang or "").strip().lower() or None,
        )

    @property
    def is_plain(self) -> bool:
        return self.datetime is None and self.filter is None

    def digest(self) -> str:
        text = f"{self.datetime or ''}\x1f{self.filter or ''}\x1f{self.filter_lang or ''}"
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
