"""Chinese mobile numbers and person names: normalise to one stored form, and validate.

Departments type these by hand, so the same phone arrives as "+86 138-1234-5678", "008613812345678" or in
full-width digits, and the same name with stray spaces ("张 三") or different middle dots in minority names
("阿依古丽•买买提"). Matching records across departments needs one form.
"""

from __future__ import annotations

import re
import unicodedata

from spatial.errors import InvalidInput

MOBILE_LENGTH = 11
# Separators people type inside numbers: space-like characters are removed by str.split, these explicitly.
_PHONE_SEPARATORS = str.maketrans("", "", "-‐‑‒–—―−.()")
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)

# The middle dot of transliterated minority and foreign names (GB/T 28039 uses U+00B7) and its look-alikes.
NAME_MIDDLE_DOT = "·"
_MIDDLE_DOT_VARIANTS = str.maketrans(dict.fromkeys("•‧・･∙⋅", NAME_MIDDLE_DOT))
# CJK unified ideographs, extension A, compatibility ideographs, extensions B to H (names use rare ones).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}{NAME_MIDDLE_DOT}]) (?=[{_CJK}{NAME_MIDDLE_DOT}])")
_NAME_PUNCTUATION = frozenset(f"{NAME_MIDDLE_DOT} '-.")
MAX_NAME_LENGTH = 64


class InvalidPhone(InvalidInput, ValueError):
    """The text is not a Chinese mobile number; the message says why."""


class InvalidName(InvalidInput, ValueError):
    """The text is not a plausible person name; the message says why."""


def normalise_mobile(text: str) -> str:
    """The 11 digits of a mainland mobile number, without country code or separators."""
    compact = "".join(unicodedata.normalize("NFKC", text).split()).translate(_PHONE_SEPARATORS)
    national = _strip_country_code(compact, original=text)
    # Not str.isdigit: it accepts other scripts' digits (Arabic-Indic, superscripts) that NFKC leaves alone.
    not_digit = next((c for c in national if not ("0" <= c <= "9")), None)
    if not_digit is not None:
        raise InvalidPhone(f"a mobile number has only digits, found {not_digit!r} in {text!r}")
    if len(national) != MOBILE_LENGTH:
        raise InvalidPhone(f"a mobile number has 11 digits, got {len(national)} in {text!r}")
    if national.startswith("0"):
        raise InvalidPhone(f"{text!r} looks like a landline (area code starting with 0), not a mobile number")
    if not _MOBILE.fullmatch(national):
        raise InvalidPhone(f"a mobile number starts with 13 to 19, got {national[:2]} in {text!r}")
    return national


def is_valid_mobile(text: str) -> bool:
    try:
        normalise_mobile(text)
    except InvalidPhone:
        return False
    return True


def _strip_country_code(compact: str, original: str) -> str:
    if compact.startswith("+"):
        if not compact.startswith("+86"):
            raise InvalidPhone(f"only mainland China numbers (+86) are accepted, got {original!r}")
        return compact[3:]
    if compact.startswith("0086"):
        return compact[4:]
    # A bare "86" is a country code only when 11 digits follow; "86..." alone is too short to be a mobile.
    if compact.startswith("86") and len(compact) == MOBILE_LENGTH + 2:
        return compact[2:]
    return compact


def normalise_name(text: str) -> str:
    """NFKC, no invisible characters, one space between words, none between Chinese characters.

    Variants of the middle dot become "·", without spaces around it: "阿依古丽 • 买买提" -> "阿依古丽·买买提".
    Spaces in Latin-script names stay ("John Smith").
    """
    # Zero-width spaces and byte-order marks come along from Excel exports and web forms. They go before NFKC,
    # because one between a letter and its accent would otherwise stop the two from being composed.
    visible = "".join(c for c in text if unicodedata.category(c) != "Cf")
    normalised = unicodedata.normalize("NFKC", visible).translate(_MIDDLE_DOT_VARIANTS)
    collapsed = " ".join(normalised.split())
    return _SPACE_BETWEEN_CJK.sub("", collapsed)


def validate_name(text: str) -> str:
    """normalise_name, then reject what cannot be a person's name (empty, digits, symbols, very long)."""
    name = normalise_name(text)
    if not name:
        raise InvalidName("a name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"a name has at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    for char in name:
        # Letters of any script, combining marks, and the punctuation real names use.
        if not (unicodedata.category(char)[0] in "LM" or char in _NAME_PUNCTUATION):
            raise InvalidName(f"a name cannot contain {char!r}: {text!r}")
    if name[0] in _NAME_PUNCTUATION or name[-1] in _NAME_PUNCTUATION:
        raise InvalidName(f"a name cannot start or end with punctuation: {text!r}")
    return name
