"""Exceptions of the tile server; ``api/errors.py`` maps their bases (InvalidInput 400, NotFound 404)."""

from spatial.errors import InvalidInput, NotFound


class UnknownTileMatrixSet(NotFound):
    pass


class TileOutOfRange(NotFound):
    """z/x/y is not a tile of the matrix set (or outside the layer's zoom range)."""


class InvalidTileRequest(InvalidInput):
    pass


class InvalidRaster(InvalidInput):
    """A file that cannot be served as a raster layer: not a GeoTIFF, corrupt, or without a CRS."""


class RasterNotFound(NotFound):
    pass
