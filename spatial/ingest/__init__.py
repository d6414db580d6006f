"""Ingestion of departments' files (any vector format, CSV, Excel) into PostGIS tables, streamed,
all-or-nothing.

``ingest()`` reads the upload in chunks (pyogrio Arrow batches, pandas/calamine for tables), reprojects to
EPSG:4326 (GCJ-02/BD-09 included), checks the coordinates, sanitises field names (keeping the originals as
titles) and COPYs into ``onemap.<table>`` inside the caller's transaction.
"""

from spatial.ingest.errors import (
    BadColumns,
    CoordinatesOutsideChina,
    CoordinatesSwapped,
    EmptyFile,
    EncodingMismatch,
    LayerChoiceNeeded,
    MissingCrs,
    MissingSidecar,
    MixedGeometry,
    NameTaken,
    NoFeatures,
    UnsupportedFormat,
    UploadRefused,
    UploadTooLarge,
    ZipBomb,
)
from spatial.ingest.load_upload import FieldSpec, IngestOptions, IngestReport, LoadedTable, ingest
from spatial.ingest.names import check_layer_id, layer_id_from_filename, sanitise_all
from spatial.ingest.settings import IngestSettings, get_ingest_settings

__all__ = [
    "BadColumns",
    "CoordinatesOutsideChina",
    "CoordinatesSwapped",
    "EmptyFile",
    "EncodingMismatch",
    "FieldSpec",
    "IngestOptions",
    "IngestReport",
    "IngestSettings",
    "LayerChoiceNeeded",
    "LoadedTable",
    "MissingCrs",
    "MissingSidecar",
    "MixedGeometry",
    "NameTaken",
    "NoFeatures",
    "UnsupportedFormat",
    "UploadRefused",
    "UploadTooLarge",
    "ZipBomb",
    "check_layer_id",
    "get_ingest_settings",
    "ingest",
    "layer_id_from_filename",
    "sanitise_all",
]
