"""Why an upload was refused. Every one is an ``UploadRefused`` (a 4xx: 400, a taken name 409, a file too large
413), and its message says what to do."""

from __future__ import annotations

from spatial.errors import Conflict, InvalidInput, TooLarge


class UploadRefused(InvalidInput):
    """Base of every refused upload."""


class EmptyFile(UploadRefused):
    pass


class UploadTooLarge(UploadRefused, TooLarge):
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


class NameTaken(UploadRefused, Conflict):
    pass


class NoFeatures(UploadRefused):
    pass
