"""Exceptions of the layer catalog; ``api/errors.py`` maps them to HTTP codes."""

from spatial.errors import InvalidInput, NotFound, OnemapError


class LayerNotFound(NotFound):
    pass


class LayerForbidden(OnemapError):
    pass


class InvalidLayer(InvalidInput):
    pass
