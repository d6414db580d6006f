"""Which text encoding a .dbf or a CSV uses: given, declared (.cpg), or detected; and whether it really fits.

Chinese departments' shapefiles are very often GBK without a .cpg; GDAL would then read them as Latin-1 and
turn every name into mojibake. We decode a sample of the text bytes strictly: UTF-8 first, then GB18030 (a
superset of GBK and GB2312), then whatever charset-normalizer thinks.
"""

from __future__ import annotations

import codecs
import struct
from pathlib import Path

from charset_normalizer import from_bytes

from spatial.ingest.errors import EncodingMismatch, MissingSidecar

SAMPLE_BYTES = 2 * 1024 * 1024
# Names in .cpg files and on the command line, mapped to Python codec names GDAL/iconv also know.
_ALIASES = {
    "936": "GB18030",
    "cp936": "GB18030",
    "gbk": "GB18030",
    "gb2312": "GB18030",
    "gb18030": "GB18030",
    "65001": "UTF-8",
    "utf8": "UTF-8",
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "950": "BIG5",
    "big5": "BIG5",
    "1252": "CP1252",
    "latin1": "ISO-8859-1",
    "iso-8859-1": "ISO-8859-1",
}


def normalise_encoding(name: str) -> str:
    key = name.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(key).name.upper()
    except LookupError:
        raise EncodingMismatch(f"unknown encoding {name!r}: use e.g. GBK, GB18030, UTF-8 or BIG5") from None


def _decodes(sample: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is not an error
    except UnicodeDecodeError:
        return False
    return True


def detect(sample: bytes) -> str:
    """The most plausible encoding of `sample`."""
    if _decodes(sample, "utf-8"):
        return "UTF-8"
    if _decodes(sample, "gb18030"):
        text = codecs.getincrementaldecoder("gb18030")(errors="ignore").decode(sample, final=False)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return "GB18030"
    best = from_bytes(sample).best()
    return normalise_encoding(best.encoding) if best is not None else "UTF-8"


def dbf_text_sample(dbf: Path) -> bytes:
    """Field names and the first records of a .dbf: the bytes whose encoding matters."""
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            raise MissingSidecar(
                f"{dbf.name} is not a dBASE file (too short): the shapefile's attributes are lost"
            )
        (header_length,) = struct.unpack("<H", head[8:10])
        descriptors = handle.read(max(header_length - 32, 0))
        names = b"".join(
            descriptors[i : i + 11].split(b"\x00")[0] for i in range(0, len(descriptors) - 1, 32)
        )
        records = handle.read(SAMPLE_BYTES)
    return names + b" " + records


def choose(sample: bytes, given: str | None, declared: str | None, what: str) -> str:
    """The encoding to read with: the uploader's, else the file's declaration, else detection; it must fit."""
    chosen = normalise_encoding(given or declared or detect(sample))
    if not _decodes(sample, chosen):
        guess = detect(sample)
        source = "you gave" if given else "its .cpg declares"
        raise EncodingMismatch(
            f"{what} is not valid {chosen} text ({source} {chosen}); it looks like {guess}: "
            f"upload again with encoding={guess}"
        )
    return chosen
