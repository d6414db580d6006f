"""Exceptions of the figures; ``api/errors.py`` maps them to HTTP codes."""

from spatial.errors import OnemapError


class OutsideScope(OnemapError):
    """A scope (or a row) lies outside the area the caller's key covers."""
