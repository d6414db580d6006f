"""GB 32100-2015 unified social credit codes (统一社会信用代码) and GB 11714 organisation codes.

Layout of the 18 characters: registration authority (1, e.g. "9" market supervision), entity type (1, e.g.
"1" company, "2" individual business), area code (6 digits), organisation code (9 characters: 8 plus the
GB 11714 check character) and the GB 32100 check character, all from a 31-character alphabet without the
letters I, O, Z, S and V (they are too easily confused with 1, 0, 2, 5 and U).

Real issued codes sometimes fail the GB 32100 check, so a wrong check character is flagged, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spatial.errors import InvalidInput
from spatial.identifiers.id_number import clean_identifier_text, code_point_matrix

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight i is 3**i mod 31 for the positions 1..17.
CREDIT_WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_LENGTH = 18

# GB 11714-1997: the first 8 characters are digits or upper-case letters (A = 10 ... Z = 35).
ORGANISATION_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)
ORGANISATION_CODE_LENGTH = 9
_ORGANISATION_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_CREDIT_VALUES = {char: value for value, char in enumerate(CREDIT_ALPHABET)}


class InvalidCreditCode(InvalidInput, ValueError):
    """The text cannot be a unified social credit code (wrong length or a character outside the alphabet)."""


class InvalidOrganisationCode(InvalidInput, ValueError):
    """The text cannot be a GB 11714 organisation code."""


@dataclass(frozen=True)
class CreditCode:
    """A parsed credit code; check_char_ok is False for codes whose check character does not match."""

    value: str
    registration_authority: str
    entity_type: str
    area_code: str
    organisation_code: str
    check_char_ok: bool

    @property
    def expected_check_char(self) -> str:
        return credit_code_check_char(self.value[:17])

    @property
    def organisation_code_ok(self) -> bool:
        """Whether chars 9-17 carry a valid GB 11714 check; many individual businesses' codes do not."""
        return is_valid_organisation_code(self.organisation_code)


def credit_code_check_char(body17: str) -> str:
    """The GB 32100 check character for the first 17 characters: 31 - (weighted sum mod 31), 31 -> 0."""
    if len(body17) != CREDIT_CODE_LENGTH - 1:
        raise InvalidCreditCode(f"a credit code body has 17 characters, got {len(body17)}")
    total = sum(
        weight * _credit_value(char, position)
        for position, (weight, char) in enumerate(zip(CREDIT_WEIGHTS, body17, strict=True))
    )
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(text: str) -> CreditCode:
    """Parse a credit code (spaces, full-width and lower-case letters are tolerated)."""
    value = clean_identifier_text(text)
    if len(value) != CREDIT_CODE_LENGTH:
        raise InvalidCreditCode(f"a credit code has 18 characters, got {len(value)}: {text!r}")
    for position, char in enumerate(value):
        _credit_value(char, position)
    return CreditCode(
        value=value,
        registration_authority=value[0],
        entity_type=value[1],
        area_code=value[2:8],
        organisation_code=value[8:17],
        check_char_ok=credit_code_check_char(value[:17]) == value[17],
    )


def is_well_formed_credit_code(text: str) -> bool:
    """Right length and alphabet; the check character may still be wrong (see CreditCode.check_char_ok)."""
    try:
        parse_credit_code(text)
    except InvalidCreditCode:
        return False
    return True


def organisation_code_check_char(body8: str) -> str:
    """GB 11714 check character: C9 = 11 - (weighted sum mod 11), with 10 -> "X" and 11 -> "0"."""
    if len(body8) != ORGANISATION_CODE_LENGTH - 1:
        raise InvalidOrganisationCode(f"an organisation code body has 8 characters, got {len(body8)}")
    total = 0
    for position, (weight, char) in enumerate(zip(ORGANISATION_WEIGHTS, body8, strict=True)):
        value = _ORGANISATION_ALPHABET.find(char)
        if value < 0:
            raise InvalidOrganisationCode(
                f"organisation code character {position + 1} must be a digit or A-Z, got {char!r}"
            )
        total += weight * value
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_organisation_code(text: str) -> bool:
    """A 9-character organisation code (an optional hyphen before the check character is allowed)."""
    value = clean_identifier_text(text).replace("-", "")
    if len(value) != ORGANISATION_CODE_LENGTH:
        return False
    try:
        return organisation_code_check_char(value[:8]) == value[8]
    except InvalidOrganisationCode:
        return False


def credit_codes_from_parts(
    authority_and_type: ArrayLike, area_codes: ArrayLike, serials: ArrayLike
) -> NDArray[np.str_]:
    """Build many credit codes at once, as a '<U18' array.

    The organisation code is the serial as 8 decimal digits plus its GB 11714 check character, so distinct
    serials give distinct codes. All arithmetic is on whole numpy columns; the characters are written as UCS-4
    code points into an (n, 18) uint32 array that is then viewed as strings.
    """
    prefixes = code_point_matrix(authority_and_type)
    areas = np.asarray(area_codes, dtype=np.int64)
    serial = np.asarray(serials, dtype=np.int64)
    count = prefixes.shape[0]
    if not (areas.shape == serial.shape == (count,)):
        raise ValueError("authority_and_type, area_codes and serials must be 1-D arrays of the same length")
    if count and (areas.min() < 0 or areas.max() > 999_999):
        raise ValueError("every area code must be in 0..999999")
    if count and (serial.min() < 0 or serial.max() >= 10**8):
        raise ValueError("every serial must be in 0..99999999")

    # Alphabet values of every character position 1..17, as an (n, 17) integer array.
    values = np.empty((count, 17), dtype=np.int64)
    values[:, 0:2] = _prefix_values(prefixes)
    values[:, 2:8] = _decimal_digits(areas, 6)
    values[:, 8:16] = _decimal_digits(serial, 8)
    org_sum = values[:, 8:16] @ np.array(ORGANISATION_WEIGHTS, dtype=np.int64)
    # Index 11 - (sum mod 11) is 1..11; 10 is written "X" and 11 is written "0" (GB 11714).
    org_check_value = np.array([-1, 1, 2, 3, 4, 5, 6, 7, 8, 9, _CREDIT_VALUES["X"], 0], dtype=np.int64)
    values[:, 16] = org_check_value[11 - org_sum % 11]
    credit_sum = values @ np.array(CREDIT_WEIGHTS, dtype=np.int64)

    alphabet_codes = np.array([ord(c) for c in CREDIT_ALPHABET], dtype=np.uint32)
    codes = np.empty((count, CREDIT_CODE_LENGTH), dtype=np.uint32)
    codes[:, :17] = alphabet_codes[values]
    codes[:, 17] = alphabet_codes[(31 - credit_sum % 31) % 31]
    return codes.view(f"<U{CREDIT_CODE_LENGTH}").reshape(count)


def _credit_value(char: str, position: int) -> int:
    value = _CREDIT_VALUES.get(char)
    if value is None:
        raise InvalidCreditCode(
            f"credit code character {position + 1} is {char!r}, which is not in the alphabet "
            f"{CREDIT_ALPHABET} (I, O, Z, S and V are never used)"
        )
    return value


def _prefix_values(prefixes: NDArray[np.uint32]) -> NDArray[np.int64]:
    """Alphabet values of the 2-character authority-and-type prefixes; raises on anything else."""
    if prefixes.shape[1] < 2 or (prefixes.shape[1] > 2 and prefixes[:, 2:].any()):
        raise ValueError("authority_and_type must hold strings of exactly 2 characters")
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[[ord(c) for c in CREDIT_ALPHABET]] = np.arange(len(CREDIT_ALPHABET))
    pair = prefixes[:, :2]
    values = lookup[np.minimum(pair, 127)]
    if (values < 0).any() or (pair > 127).any():
        raise ValueError(f"authority_and_type characters must come from {CREDIT_ALPHABET}")
    return values


def _decimal_digits(numbers: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """(n, width) array of the zero-padded decimal digits of each number, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits: NDArray[np.int64] = numbers[:, None] // powers % 10
    return digits
