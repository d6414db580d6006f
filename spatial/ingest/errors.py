"""Why an upload was refused. Every one is an ``InvalidInput`` (a 4xx), and its message says what to do."""

from __future__ import annotations

from spatial.errors import InvalidInput


class UploadRefused(InvalidInput):
    """Base of every refused upload."""


class EmptyFile(UploadRefused):
    pass


class UploadTooLarge(UploadRefused):
    pass


class ZipBomb(UploadRefused):
    pass


class UnsupportedFormat(UploadRefused):
    pass


class MissingSidecar(UploadRefused):
    """A shapefile without its .dbf or .shx."""


class LayerChoiceNeeded(UploadRefused):
    """The file holds several layers and none was chosen."""


class MissingCrs(UploadRefused):
    pass


class EncodingMismatch(UploadRefused):
    pass


class MixedGeometry(UploadRefused):
    pass


class CoordinatesOutsideChina(UploadRefused):
    pass


class CoordinatesSwapped(CoordinatesOutsideChina):
    pass


class BadColumns(UploadRefused):
    """Coordinate or address columns missing, or values that do not fit their column."""


class NameTaken(UploadRefused):
    pass


class NoFeatures(UploadRefused):
    pass
