"""De-identification of names, phones and ID numbers, for grid workers and public views.

spatial/sql/masking.sql defines the same functions in PostgreSQL (onemap.mask_name, onemap.mask_phone,
onemap.mask_id_number); the outputs must agree character for character, so every rule here is stated in terms
of characters (Unicode code points, which is what PostgreSQL's length/left/right count in a UTF-8 database).

The functions mask the stored (normalised) value as it is; they do not normalise first, because SQL cannot.
A masked value keeps its length: the number of stars equals the number of hidden characters.
"""

from __future__ import annotations

from typing import overload

MASK_CHAR = "*"
PHONE_KEEP_PREFIX = 3
PHONE_KEEP_SUFFIX = 4


@overload
def mask_name(name: str) -> str: ...
@overload
def mask_name(name: None) -> None: ...
def mask_name(name: str | None) -> str | None:
    """Keep the first character (the surname, for most Chinese names) and star the rest: 张三丰 -> 张**.

    A single-character name is returned as it is: it shows exactly what a longer name shows (its first
    character, and its length), and starring it would make it look like a different, empty value.
    """
    if name is None:
        return None
    return name[:1] + MASK_CHAR * (len(name) - 1)


@overload
def mask_phone(phone: str) -> str: ...
@overload
def mask_phone(phone: None) -> None: ...
def mask_phone(phone: str | None) -> str | None:
    """13812345678 -> 138****5678: first 3 and last 4 characters kept, the rest starred.

    Values of other lengths keep the same 3 + 4 characters if they have at least 8 (so at least one is
    hidden); anything shorter is starred completely, as it would otherwise be shown almost whole.
    """
    if phone is None:
        return None
    if len(phone) < PHONE_KEEP_PREFIX + PHONE_KEEP_SUFFIX + 1:
        return MASK_CHAR * len(phone)
    hidden = len(phone) - PHONE_KEEP_PREFIX - PHONE_KEEP_SUFFIX
    return phone[:PHONE_KEEP_PREFIX] + MASK_CHAR * hidden + phone[-PHONE_KEEP_SUFFIX:]


@overload
def mask_id_number(id_number: str, keep_prefix: int = ..., keep_suffix: int = ...) -> str: ...
@overload
def mask_id_number(id_number: None, keep_prefix: int = ..., keep_suffix: int = ...) -> None: ...
def mask_id_number(id_number: str | None, keep_prefix: int = 0, keep_suffix: int = 4) -> str | None:
    """Keep keep_prefix leading and keep_suffix trailing characters: **************002X with 0 and 4.

    Area code and birth date are both hidden by default: they are quasi-identifiers, and beside the birth
    year and sex that a masked file shows, the area code would leave a few dozen candidates for the whole
    number. If the kept parts would cover the whole value,
    everything is starred instead. Negative counts are treated as 0 (mask more, never less), like the SQL.
    """
    if id_number is None:
        return None
    prefix = max(keep_prefix, 0)
    suffix = max(keep_suffix, 0)
    length = len(id_number)
    if length <= prefix + suffix:
        return MASK_CHAR * length
    return id_number[:prefix] + MASK_CHAR * (length - prefix - suffix) + id_number[length - suffix :]
