"""Read a declaration file (CSV in any Chinese encoding, or Excel with merged header cells) into rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from spatial.errors import InvalidInput


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, 1-based, as a person sees it; cells)
    encoding: str | None = None


def read_table(path: Path, known_columns: set[str], sheet: str | None = None) -> Table:
    """The header row is the first row holding a known column name (title rows above it are skipped).
    `sheet` names a workbook's sheet (the first one by default)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        grid = _excel_cells(path, sheet)
        encoding = None
    elif path.suffix.lower() in (".csv", ".txt"):
        text, encoding = decode(path.read_bytes())
        grid = [row for row in csv.reader(io.StringIO(text))]
    else:
        raise InvalidInput(f"{path.name}: declarations come as .csv or .xlsx files")
    header_at = next((i for i, row in enumerate(grid) if any(_key(c) in known_columns for c in row)), None)
    if header_at is None:
        raise InvalidInput(f"{path.name}: no header row with a known column (e.g. 姓名, 身份证号, 地址)")
    header = _combined_header(grid, header_at, known_columns)
    first_data = header_at + 1 + (1 if _is_sub_header(grid, header_at + 1, known_columns) else 0)
    rows = [
        (number + 1, [c for c in row])
        for number, row in enumerate(grid)
        if number >= first_data and any(c.strip() for c in row)
    ]
    return Table(header, rows, encoding)


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (BOM or not) first, else what charset-normalizer finds (GBK, GB18030)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "big5", "utf_16"]).best()
    if best is None:
        best = from_bytes(data).best()
    if best is None:
        raise InvalidInput("cannot tell the text encoding of the file: save it as UTF-8 or GBK")
    encoding = "gb18030" if best.encoding in ("gbk", "gb2312") else best.encoding  # a superset decodes more
    return data.decode(encoding, errors="replace"), encoding


def _key(cell: str) -> str:
    return "".join(cell.split())


def sheet_names(path: Path) -> list[str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InvalidInput(f"{path.name}: not a readable Excel file ({type(exc).__name__})") from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _excel_cells(path: Path, name: str | None = None) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InvalidInput(f"{path.name}: not a readable Excel file ({type(exc).__name__})") from None
    if name is not None and name not in book.sheetnames:
        raise InvalidInput(f"{path.name} has no sheet {name!r}; its sheets: {', '.join(book.sheetnames)}")
    sheet = book[name] if name is not None else book.worksheets[0]
    cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    # A merged range keeps its value in the top-left cell only: copy it into every cell of the range.
    for merged in sheet.merged_cells.ranges:
        value = cells[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row - 1, merged.max_row):
            for c in range(merged.min_col - 1, merged.max_col):
                cells[r][c] = value
    return cells


def _is_sub_header(grid: list[list[str]], at: int, known: set[str]) -> bool:
    return at < len(grid) and sum(_key(c) in known for c in grid[at]) >= 2


def _combined_header(grid: list[list[str]], at: int, known: set[str]) -> list[str]:
    """A merged group heading (e.g. 联系方式 over 手机 | 固话) gives way to the sub-heading below it."""
    header = [_key(c) for c in grid[at]]
    if _is_sub_header(grid, at + 1, known):
        below = [_key(c) for c in grid[at + 1]]
        header = [
            b if b in known or not h else h for h, b in zip(header, below + [""] * len(header), strict=False)
        ]
    return header
