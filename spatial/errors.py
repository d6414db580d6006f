"""Exceptions of the spatial core. ``api/errors.py`` maps them to HTTP codes; the CLI prints their message."""


class OnemapError(Exception):
    """Base of every error onemap raises on purpose; its message tells the user what to do."""


class DatabaseUnavailable(OnemapError):
    """The database cannot be reached or started."""


class ClusterError(OnemapError):
    """The embedded PostgreSQL cluster cannot be initialised, started or stopped."""


class InvalidInput(OnemapError):
    """A value given by a user is malformed."""


class NotFound(OnemapError):
    """The thing asked for does not exist."""


class Forbidden(OnemapError):
    """The caller is known but their role or scope may not do this (every package raises this one)."""


class Conflict(OnemapError):
    """The request clashes with the current state (a name taken, a stale version)."""


class TooLarge(OnemapError):
    """A request or file above a configured size limit."""
