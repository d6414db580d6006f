"""Exceptions of the layer catalog; ``api/errors.py`` maps them to HTTP codes."""

from spatial.errors import InvalidInput, NotFound


class LayerNotFound(NotFound):
    pass


class InvalidLayer(InvalidInput):
    pass
