"""Cleaning declared data: citizen declarations and questionnaires -> standard, matched, compared rows."""

from spatial.cleaning.address import AddressMatcher, building_part
from spatial.cleaning.intake import ImportResult, RowError, import_declarations
from spatial.cleaning.reading import decode, read_table
from spatial.cleaning.standardise import clean_row, compact

__all__ = [
    "AddressMatcher",
    "ImportResult",
    "RowError",
    "building_part",
    "clean_row",
    "compact",
    "decode",
    "import_declarations",
    "read_table",
]
