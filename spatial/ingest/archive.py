"""The uploaded file: size limits, zip-bomb guard, unpacking, and finding the dataset inside."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from spatial.ingest.errors import (
    EmptyFile,
    LayerChoiceNeeded,
    MissingSidecar,
    UnsupportedFormat,
    UploadTooLarge,
    ZipBomb,
)
from spatial.ingest.settings import IngestSettings

VECTOR_SUFFIXES = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".fgb": "FlatGeobuf",
    ".shp": "ESRI Shapefile",
}
TABLE_SUFFIXES = {".csv": "CSV", ".tsv": "CSV", ".xlsx": "XLSX"}
SUPPORTED_HELP = "GeoPackage, zipped Shapefile, GeoJSON, KML, FlatGeobuf, CSV or .xlsx"


@dataclass(frozen=True)
class Dataset:
    path: Path
    kind: str  # a GDAL driver name, or "CSV" / "XLSX"
    cpg: str | None = None  # a shapefile's declared encoding


def check_size(path: Path, settings: IngestSettings) -> int:
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile("the uploaded file is empty (0 bytes): choose the file again and re-upload")
    if size > settings.max_upload_bytes:
        raise UploadTooLarge(
            f"the file has {size:,} bytes, more than the limit of {settings.max_upload_bytes:,}: split it, "
            "or ask "
            "an administrator (ONEMAP_INGEST_MAX_UPLOAD_BYTES)"
        )
    return size


def _check_bomb(archive: zipfile.ZipFile, compressed: int, settings: IngestSettings) -> None:
    total = sum(info.file_size for info in archive.infolist())
    if total > settings.max_unzipped_bytes:
        raise ZipBomb(
            f"the .zip would expand to {total:,} bytes, more than the limit of "
            f"{settings.max_unzipped_bytes:,}: refused"
        )
    if total / max(compressed, 1) > settings.max_zip_ratio:
        raise ZipBomb(
            f"the .zip expands {total / max(compressed, 1):,.0f} times (limit "
            f"{settings.max_zip_ratio:,.0f}): that is a zip bomb, not a dataset; refused"
        )


def _extract(archive: zipfile.ZipFile, into: Path, settings: IngestSettings) -> list[Path]:
    """Extract regular files flat (no paths: no traversal), counting real bytes (headers can lie)."""
    written = 0
    out: list[Path] = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if info.is_dir() or not name or name.startswith(".") or info.filename.startswith("__MACOSX"):
            continue
        target = into / name
        with archive.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(1024 * 1024):
                written += len(chunk)
                if written > settings.max_unzipped_bytes:
                    raise ZipBomb("the .zip expands beyond its declared size and the limit: refused")
                dst.write(chunk)
        out.append(target)
    return out


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _shapefile(shp: Path) -> Dataset:
    for suffix, role in ((".dbf", "attributes"), (".shx", "index")):
        if _sidecar(shp, suffix) is None:
            raise MissingSidecar(
                f"the shapefile {shp.name} has no {shp.stem}{suffix} ({role}): a shapefile is several "
                "files; zip "
                f"{shp.stem}.shp, .shx, .dbf, .prj (and .cpg) together and upload the .zip"
            )
    cpg = _sidecar(shp, ".cpg")
    declared = cpg.read_text(encoding="ascii", errors="ignore").strip() if cpg is not None else None
    return Dataset(shp, "ESRI Shapefile", declared or None)


def _pick(files: list[Path], layer: str | None) -> Dataset:
    shps = [f for f in files if f.suffix.lower() == ".shp"]
    others = [
        f
        for f in files
        if f.suffix.lower() in VECTOR_SUFFIXES.keys() - {".shp"} or f.suffix.lower() in TABLE_SUFFIXES
    ]
    candidates = shps + others
    if not candidates:
        dbfs = [f for f in files if f.suffix.lower() == ".dbf"]
        if dbfs:
            raise MissingSidecar(
                f"the .zip has {dbfs[0].name} but no .shp (geometry): add it and upload again"
            )
        raise UnsupportedFormat(f"the .zip holds no dataset ({SUPPORTED_HELP})")
    if len(candidates) > 1:
        chosen = [f for f in candidates if layer and f.stem == layer]
        if not chosen:
            names = ", ".join(f.stem for f in candidates)
            raise LayerChoiceNeeded(f"the .zip holds several datasets ({names}): choose one with layer=")
        candidates = chosen
    return _dataset(candidates[0])


def _dataset(path: Path) -> Dataset:
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return _shapefile(path)
    if suffix in VECTOR_SUFFIXES:
        return Dataset(path, VECTOR_SUFFIXES[suffix])
    if suffix in TABLE_SUFFIXES:
        return Dataset(path, TABLE_SUFFIXES[suffix])
    raise UnsupportedFormat(f"cannot read {path.name!r}: upload {SUPPORTED_HELP}")


def open_upload(
    path: Path, filename: str, workdir: Path, settings: IngestSettings, layer: str | None = None
) -> Dataset:
    """Check the uploaded file and return the dataset to read (unpacking a .zip into `workdir`)."""
    size = check_size(path, settings)
    suffix = Path(filename).suffix.lower()
    known = suffix in VECTOR_SUFFIXES or suffix in TABLE_SUFFIXES
    if suffix == ".zip" or (not known and zipfile.is_zipfile(path)):
        try:
            with zipfile.ZipFile(path) as archive:
                _check_bomb(archive, size, settings)
                files = _extract(archive, workdir, settings)
        except zipfile.BadZipFile:
            raise UnsupportedFormat(f"{filename!r} is not a readable .zip file") from None
        return _pick(files, layer)
    if suffix == ".shp":
        raise MissingSidecar(
            "a shapefile is several files (.shp, .shx, .dbf, .prj, .cpg): zip them together and "
            "upload the .zip"
        )
    if suffix not in VECTOR_SUFFIXES and suffix not in TABLE_SUFFIXES:
        raise UnsupportedFormat(f"cannot read {filename!r}: upload {SUPPORTED_HELP}")
    # Give GDAL a name with the right extension (the upload's temporary file may have none).
    named = workdir / f"upload{suffix}"
    if path != named:
        try:
            named.hardlink_to(path)
        except OSError:
            named.symlink_to(path.resolve())
    return _dataset(named)
