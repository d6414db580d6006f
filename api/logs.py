"""Logging of the web server: API keys given as ``api_key=`` in a URL never reach the access log."""

from __future__ import annotations

import logging
import re

_KEY_IN_QUERY = re.compile(r"(api_key=)[^&\s\"]+")


class RedactKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access records carry the path with its query string among their arguments.
        if isinstance(record.args, tuple):
            record.args = tuple(_KEY_IN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def redact_keys_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeys) for f in access.filters):
        access.addFilter(RedactKeys())
