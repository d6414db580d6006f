"""GB 11643-1999 citizen ID numbers (公民身份号码).

Layout of the 18 characters: area code (6 digits, where the number was first issued), birth date (8 digits,
YYYYMMDD), sequence (3 digits, odd for men, even for women) and a check character computed with ISO 7064
MOD 11-2 over the first 17 digits.

The area code is only checked for being six digits: counties are merged and renamed over time, and the code on
an issued card never changes, so a list of today's codes would reject real people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatial.beijing_time import today as beijing_today
from spatial.errors import InvalidInput

# ISO 7064 MOD 11-2: weight i is 2**(17 - i) mod 11 for the positions 1..17.
ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Indexed by (weighted sum mod 11); "X" stands for the value 10.
ID_CHECK_CHARS = "10X98765432"

ID_LENGTH = 18
OLD_ID_LENGTH = 15
_ASCII_DIGITS = frozenset("0123456789")
# Nobody alive was born before this; it also keeps garbage such as year 0000 out.
_EARLIEST_BIRTH_YEAR = 1850


class InvalidIdNumber(InvalidInput, ValueError):
    """The text is not a well-formed GB 11643 ID number; the message says which part is wrong."""


@dataclass(frozen=True)
class IdNumber:
    """A parsed, valid 18-character ID number."""

    value: str
    area_code: str
    birth_date: date
    sequence: int

    @property
    def sex(self) -> Literal["M", "F"]:
        # GB 11643: the sequence code is odd for men and even for women.
        return "M" if self.sequence % 2 == 1 else "F"


def clean_identifier_text(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), drop all whitespace, upper-case."""
    normalised = unicodedata.normalize("NFKC", text)
    return "".join(normalised.split()).upper()


def id_number_check_char(body17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of an ID number."""
    if len(body17) != ID_LENGTH - 1:
        raise InvalidIdNumber(f"an ID number body has 17 digits, got {len(body17)} characters")
    _require_digits(body17, what="ID number", positions=range(17))
    total = sum(weight * int(digit) for weight, digit in zip(ID_WEIGHTS, body17, strict=True))
    return ID_CHECK_CHARS[total % 11]


def parse_id_number(text: str) -> IdNumber:
    """Parse and validate an 18-character ID number; raises InvalidIdNumber saying what is wrong."""
    value = clean_identifier_text(text)
    if len(value) != ID_LENGTH:
        hint = " (an old 15-digit number? convert it with upgrade_15_to_18)" if len(value) == 15 else ""
        raise InvalidIdNumber(f"an ID number has 18 characters, got {len(value)}{hint}: {text!r}")
    _require_digits(value, what="ID number", positions=range(17))
    if value[17] not in _ASCII_DIGITS and value[17] != "X":
        raise InvalidIdNumber(f"ID number character 18 must be a digit or X, got {value[17]!r}")
    birth_date = _birth_date(value[6:14])
    expected = id_number_check_char(value[:17])
    if value[17] != expected:
        raise InvalidIdNumber(f"ID number check character is wrong: expected {expected} got {value[17]}")
    return IdNumber(value=value, area_code=value[:6], birth_date=birth_date, sequence=int(value[14:17]))


def is_valid_id_number(text: str) -> bool:
    try:
        parse_id_number(text)
    except InvalidIdNumber:
        return False
    return True


def upgrade_15_to_18(old: str) -> str:
    """Convert a pre-1999 15-digit ID (area, YYMMDD, sequence) to 18 characters, as GB 11643-1999 prescribes.

    The 15-digit numbers carry a 2-digit year of the 1900s: insert "19" before it, append the check character.
    """
    value = clean_identifier_text(old)
    if len(value) != OLD_ID_LENGTH:
        raise InvalidIdNumber(f"an old ID number has 15 digits, got {len(value)} characters: {old!r}")
    _require_digits(value, what="old ID number", positions=range(15))
    body = value[:6] + "19" + value[6:]
    upgraded = body + id_number_check_char(body)
    parse_id_number(upgraded)  # validates the birth date
    return upgraded


def id_numbers_from_parts(
    area_codes: ArrayLike, birth_dates: ArrayLike, sequences: ArrayLike
) -> NDArray[np.str_]:
    """Build many ID numbers at once, as a '<U18' array.

    Everything is numpy integer arithmetic over whole columns: the 17 digits are written as UCS-4 code points
    into an (n, 18) uint32 array, which is then viewed as n strings of 18 characters without a copy.
    """
    areas = np.asarray(area_codes, dtype=np.int64)
    dates = np.asarray(birth_dates, dtype="datetime64[D]")
    seqs = np.asarray(sequences, dtype=np.int64)
    if not areas.shape == dates.shape == seqs.shape or areas.ndim != 1:
        raise ValueError("area_codes, birth_dates and sequences must be 1-D arrays of the same length")
    _require_range(areas, 0, 999_999, "area code")
    _require_range(seqs, 1, 999, "sequence")
    _require_birth_dates_plausible(dates)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month_starts = dates.astype("datetime64[M]")
    months = month_starts.astype(np.int64) % 12 + 1
    days = (dates - month_starts.astype("datetime64[D]")).astype(np.int64) + 1

    # (number, how many digits) in the order they appear in the ID. All values fit in int32, whose division
    # is about twice as fast as int64's.
    fields = ((areas, 6), (years, 4), (months, 2), (days, 2), (seqs, 3))
    codes = np.empty((areas.size, ID_LENGTH), dtype=np.uint32)
    checksum = np.zeros(areas.size, dtype=np.int32)
    column = 0
    for number, width in fields:
        number32 = number.astype(np.int32)
        for power in range(width - 1, -1, -1):
            digit = number32 // np.int32(10**power) % np.int32(10)
            codes[:, column] = digit + ord("0")
            checksum += np.int32(ID_WEIGHTS[column]) * digit
            column += 1
    check_table = np.array([ord(c) for c in ID_CHECK_CHARS], dtype=np.uint32)
    codes[:, 17] = check_table[checksum % 11]
    return codes.view(f"<U{ID_LENGTH}").reshape(areas.size)


def id_check_chars_valid(ids: ArrayLike) -> NDArray[np.bool_]:
    """Vectorised structural check: 18 characters, 17 ASCII digits, then the right check character.

    Meant for stored, already normalised values, so a lower-case "x" counts as wrong. Birth dates are not
    checked here; parse_id_number checks everything for one value.
    """
    codes = code_point_matrix(ids)
    if codes.shape[1] < ID_LENGTH:
        return np.zeros(codes.shape[0], dtype=bool)
    # Trailing zeros are padding of shorter strings in a '<U' array; longer strings have non-zero code points.
    valid = (codes[:, ID_LENGTH:] == 0).all(axis=1)
    checksum = np.zeros(codes.shape[0], dtype=np.int32)
    # Column by column, so no (n, 17) temporary is made for millions of rows. uint32 wraps below "0", so one
    # comparison rejects everything that is not a digit.
    for column, weight in enumerate(ID_WEIGHTS):
        digit = codes[:, column] - np.uint32(ord("0"))
        is_digit = digit <= 9
        valid &= is_digit
        checksum += np.int32(weight) * np.where(is_digit, digit, 0).astype(np.int32)
    check_table = np.array([ord(c) for c in ID_CHECK_CHARS], dtype=np.uint32)
    valid &= codes[:, 17] == check_table[checksum % 11]
    return valid


def code_point_matrix(strings: ArrayLike) -> NDArray[np.uint32]:
    """An (n, width) array of the code points of n strings (zero-padded), sharing memory where possible."""
    array = np.asarray(strings)
    if array.ndim != 1:
        raise ValueError("expected a 1-D array of strings")
    if array.dtype.kind == "S":
        array = np.char.decode(array, "ascii", errors="replace")
    elif array.dtype.kind != "U":
        array = array.astype(str)
    width = array.dtype.itemsize // 4
    if width == 0:
        return np.zeros((array.size, 0), dtype=np.uint32)
    return np.ascontiguousarray(array).view(np.uint32).reshape(array.size, width)


def _require_digits(value: str, what: str, positions: range) -> None:
    for index in positions:
        if value[index] not in _ASCII_DIGITS:
            raise InvalidIdNumber(f"{what} character {index + 1} must be a digit, got {value[index]!r}")


def _birth_date(yyyymmdd: str) -> date:
    try:
        birth = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise InvalidIdNumber(f"ID number birth date {yyyymmdd} is not a calendar date") from None
    if birth.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(f"ID number birth date {yyyymmdd} is before {_EARLIEST_BIRTH_YEAR}")
    if birth > beijing_today():
        raise InvalidIdNumber(f"ID number birth date {yyyymmdd} is in the future")
    return birth


def _require_birth_dates_plausible(dates: NDArray[np.datetime64]) -> None:
    """The same limits as parse_id_number, so every generated ID also parses."""
    if np.isnat(dates).any():
        raise ValueError("birth_dates contains NaT")
    earliest = np.datetime64(f"{_EARLIEST_BIRTH_YEAR}-01-01", "D")
    latest = np.datetime64(beijing_today(), "D")
    if dates.size and (dates.min() < earliest or dates.max() > latest):
        raise ValueError(f"every birth date must be between {earliest} and today ({latest})")


def _require_range(values: NDArray[np.int64], low: int, high: int, what: str) -> None:
    if values.size and (values.min() < low or values.max() > high):
        raise ValueError(f"every {what} must be in {low}..{high}")
