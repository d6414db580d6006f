"""Identifiers: GB 11643 ID numbers, GB 32100 credit codes, phones, names and masking. Pure, no database.

Expected check characters below were computed by hand (the sums are in the comments), so the tests do not
trust the code they test.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.identifiers import (
    CREDIT_ALPHABET,
    CREDIT_WEIGHTS,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    InvalidCreditCode,
    InvalidIdNumber,
    InvalidName,
    InvalidPhone,
    credit_code_check_char,
    credit_codes_from_parts,
    id_check_chars_valid,
    id_number_check_char,
    id_numbers_from_parts,
    is_valid_id_number,
    is_valid_organisation_code,
    mask_id_number,
    mask_name,
    mask_phone,
    normalise_mobile,
    normalise_name,
    organisation_code_check_char,
    parse_credit_code,
    parse_id_number,
    upgrade_15_to_18,
    validate_name,
)

MASKING_SQL = Path(__file__).resolve().parent.parent / "spatial" / "sql" / "masking.sql"

# ---------------------------------------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------------------------------------


def test_weights_and_check_chars_are_the_published_tables() -> None:
    assert ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert [2 ** (17 - i) % 11 for i in range(17)] == list(ID_WEIGHTS)
    assert ID_CHECK_CHARS == "10X98765432"


@pytest.mark.parametrize(
    ("value", "area", "birth", "sequence", "sex"),
    [
        # 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 x weights:
        # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "X"
        ("11010519491231002X", "110105", date(1949, 12, 31), 2, "F"),
        # Longgang 440307, 1990-01-01, sequence 123:
        # 28+36+0+15+0+28+2+9+54+0+0+9+0+5+8+8+6 = 208; 208 mod 11 = 10 -> "2"
        ("440307199001011232", "440307", date(1990, 1, 1), 123, "M"),
        # A leap day, and remainder 0:
        # 28+36+0+15+0+28+4+0+0+0+0+18+20+45+0+0+4 = 198; 198 mod 11 = 0 -> "1"
        ("440307200002290021", "440307", date(2000, 2, 29), 2, "F"),
    ],
)
def test_hand_checked_id_numbers(value: str, area: str, birth: date, sequence: int, sex: str) -> None:
    parsed = parse_id_number(value)
    assert (parsed.value, parsed.area_code, parsed.birth_date, parsed.sequence, parsed.sex) == (
        value,
        area,
        birth,
        sequence,
        sex,
    )
    assert id_number_check_char(value[:17]) == value[17]
    assert is_valid_id_number(value)


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        "１１０１０５１９４９１２３１００２ｘ",
        "110105\u300019491231002X",  # ideographic space
    ],
)
def test_parse_normalises_spaces_case_and_full_width(text: str) -> None:
    assert parse_id_number(text).value == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("11010519491231002", r"18 characters, got 17"),
        ("110105491231002", r"got 15 \(an old 15-digit number\? convert it with upgrade_15_to_18\)"),
        ("11010519491231002XX", r"18 characters, got 19"),
        ("", r"18 characters, got 0"),
        ("1101051949123100AX", r"character 17 must be a digit, got 'A'"),
        ("11010519491231002Y", r"character 18 must be a digit or X, got 'Y'"),
        ("11O10519491231002X", r"character 3 must be a digit, got 'O'"),
        ("110105194912310021", r"check character is wrong: expected X got 1"),
        ("11010519490230002X", r"birth date 19490230 is not a calendar date"),
        ("11010519491331002X", r"birth date 19491331 is not a calendar date"),
        ("11010518001231002X", r"birth date 18001231 is before 1850"),
        ("11010599991231002X", r"birth date 99991231 is in the future"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidIdNumber, match=message):
        parse_id_number(text)
    assert not is_valid_id_number(text)


def test_invalid_id_number_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_id_number("nonsense")


def test_check_char_rejects_non_digits() -> None:
    with pytest.raises(InvalidIdNumber, match="must be a digit"):
        id_number_check_char("1101051949123100X")
    with pytest.raises(InvalidIdNumber, match="17 digits"):
        id_number_check_char("123")


def test_upgrade_15_to_18() -> None:
    # 110105 49 1231 002 -> 110105 19 49 1231 002 + check "X" (the classic example above).
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
    # 440307 900101 123 -> 440307 19 900101 123 + "2" (computed above).
    assert upgrade_15_to_18(" 440307 900101 123 ") == "440307199001011232"
    with pytest.raises(InvalidIdNumber, match="15 digits, got 18"):
        upgrade_15_to_18("11010519491231002X")
    with pytest.raises(InvalidIdNumber, match="not a calendar date"):
        upgrade_15_to_18("110105490230002")
    with pytest.raises(InvalidIdNumber, match="must be a digit"):
        upgrade_15_to_18("11010549123100X")


def _today() -> date:
    # Beijing's date; a day of margin keeps the strategy valid on either side of midnight.
    return date.today() - timedelta(days=1)


id_parts = st.tuples(
    st.integers(0, 999_999),
    st.dates(min_value=date(1850, 1, 1), max_value=_today()),
    st.integers(1, 999),
)


def _build_ids(parts: list[tuple[int, date, int]]) -> np.ndarray:
    areas = np.array([p[0] for p in parts], dtype=np.int64)
    births = np.array([p[1] for p in parts], dtype="datetime64[D]")
    sequences = np.array([p[2] for p in parts], dtype=np.int64)
    return id_numbers_from_parts(areas, births, sequences)


def _scalar_id(area: int, birth: date, sequence: int) -> str:
    body = f"{area:06d}{birth:%Y%m%d}{sequence:03d}"
    return body + id_number_check_char(body)


@given(st.lists(id_parts, min_size=1, max_size=40))
def test_vectorised_ids_parse_back_to_their_parts(parts: list[tuple[int, date, int]]) -> None:
    ids = _build_ids(parts)
    assert ids.dtype == np.dtype("<U18")
    assert id_check_chars_valid(ids).all()
    for value, (area, birth, sequence) in zip(ids.tolist(), parts, strict=True):
        assert value == _scalar_id(area, birth, sequence)
        parsed = parse_id_number(value)
        assert parsed.area_code == f"{area:06d}"
        assert parsed.birth_date == birth
        assert parsed.sequence == sequence
        assert parsed.sex == ("M" if sequence % 2 else "F")


@given(id_parts, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_any_one_character_is_detected(
    part: tuple[int, date, int], position: int, replacement: str
) -> None:
    value = _scalar_id(*part)
    if value[position] == replacement:
        return
    corrupted = value[:position] + replacement + value[position + 1 :]
    # MOD 11-2 detects every single substitution: weights are non-zero mod 11, digit changes are 1..10.
    assert not is_valid_id_number(corrupted)
    assert not id_check_chars_valid(np.array([corrupted])).any()


@given(id_parts, st.integers(0, 15))
def test_swapping_adjacent_digits_is_detected(part: tuple[int, date, int], position: int) -> None:
    value = _scalar_id(*part)
    if value[position] == value[position + 1]:
        return
    swapped = value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    assert not is_valid_id_number(swapped)


def test_vectorised_equals_scalar_on_a_random_sample() -> None:
    rng = np.random.default_rng(20240501)
    count = 5000
    areas = rng.integers(110000, 830000, count)
    births = np.datetime64("1900-01-01") + rng.integers(0, 45000, count).astype("timedelta64[D]")
    sequences = rng.integers(1, 1000, count)
    ids = id_numbers_from_parts(areas, births, sequences)
    expected = [
        _scalar_id(int(a), b.astype(object), int(s)) for a, b, s in zip(areas, births, sequences, strict=True)
    ]
    assert ids.tolist() == expected
    assert {value[17] for value in expected} == set(ID_CHECK_CHARS)


def test_id_check_chars_valid_table() -> None:
    values = np.array(
        [
            "11010519491231002X",
            "11010519491231002x",  # stored values are normalised: lower case counts as wrong
            "110105194912310021",
            "1101051949123100X",
            "11010519491231002X0",
            "１1010519491231002X",
            "",
            None,
        ],
        dtype=object,
    )
    assert id_check_chars_valid(values).tolist() == [True, False, False, False, False, False, False, False]
    assert id_check_chars_valid(np.array(["1", "22"])).tolist() == [False, False]


@pytest.mark.parametrize(
    ("areas", "births", "sequences", "message"),
    [
        ([440307], ["1990-01-01"], [0], "sequence"),
        ([440307], ["1990-01-01"], [1000], "sequence"),
        ([1_000_000], ["1990-01-01"], [1], "area code"),
        ([440307], ["1849-12-31"], [1], "birth date"),
        ([440307], ["2999-01-01"], [1], "birth date"),
        ([440307, 440308], ["1990-01-01"], [1], "same length"),
    ],
)
def test_vectorised_ids_reject_bad_parts(
    areas: list[int], births: list[str], sequences: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        id_numbers_from_parts(np.array(areas), np.array(births, dtype="datetime64[D]"), np.array(sequences))


# ---------------------------------------------------------------------------------------------------------
# Credit codes and organisation codes
# ---------------------------------------------------------------------------------------------------------

# Published codes of two Shenzhen companies (national enterprise credit information system).
HUAWEI = "914403001922038216"  # Huawei Technologies Co., Ltd.
TENCENT = "91440300708461136T"  # Shenzhen Tencent Computer Systems Co., Ltd.


def test_credit_tables() -> None:
    assert len(CREDIT_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_ALPHABET)
    assert [3**i % 31 for i in range(17)] == list(CREDIT_WEIGHTS)


def test_published_credit_codes_pass_the_check() -> None:
    # Huawei: 9 1 4 4 0 3 0 0 1 9 2 2 0 3 8 2 1 x weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28:
    # 9+3+36+108+0+78+0+0+20+261+50+26+0+72+80+60+28 = 831; 831 mod 31 = 25; 31 - 25 = 6 -> "6"
    assert credit_code_check_char(HUAWEI[:17]) == "6"
    # Tencent: the same first 8 (sum 234), then 7 0 8 4 6 1 1 3 6:
    # 234+140+0+200+52+48+24+10+90+168 = 966; 966 mod 31 = 5; 31 - 5 = 26 -> CREDIT_ALPHABET[26] = "T"
    assert credit_code_check_char(TENCENT[:17]) == "T"
    huawei = parse_credit_code(HUAWEI)
    assert huawei.check_char_ok
    assert (huawei.registration_authority, huawei.entity_type, huawei.area_code) == ("9", "1", "440300")
    assert huawei.organisation_code == "192203821"
    assert huawei.organisation_code_ok
    tencent = parse_credit_code(TENCENT.lower().replace("0", "０"))
    assert tencent.value == TENCENT
    assert tencent.check_char_ok
    assert tencent.organisation_code == "708461136"


@pytest.mark.parametrize(
    ("body8", "check"),
    [
        # 1*3+9*7+2*9+2*10+0*5+3*8+8*4+2*2 = 164; 164 mod 11 = 10; 11 - 10 = 1 -> "1" (Huawei)
        ("19220382", "1"),
        # 7*3+0+8*9+4*10+6*5+1*8+1*4+3*2 = 181; 181 mod 11 = 5; 11 - 5 = 6 -> "6" (Tencent)
        ("70846113", "6"),
        # D = 13: 39+14+9+40+15+40+24+18 = 199; 199 mod 11 = 1; 11 - 1 = 10 -> "X"
        ("D2143569", "X"),
        # sum 0: 11 - 0 = 11 -> "0"
        ("00000000", "0"),
        # 3+14+27+40+25+48+28+16 = 201; 201 mod 11 = 3; 11 - 3 = 8
        ("12345678", "8"),
    ],
)
def test_organisation_code_check_char(body8: str, check: str) -> None:
    assert organisation_code_check_char(body8) == check
    assert is_valid_organisation_code(body8 + check)
    assert is_valid_organisation_code(f"{body8}-{check}")
    wrong = "1" if check != "1" else "2"
    assert not is_valid_organisation_code(body8 + wrong)


def test_wrong_credit_check_char_is_flagged_not_rejected() -> None:
    parsed = parse_credit_code(HUAWEI[:17] + "7")
    assert parsed.check_char_ok is False
    assert parsed.expected_check_char == "6"
    assert parsed.organisation_code == "192203821"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HUAWEI[:17], "18 characters, got 17"),
        (HUAWEI + "0", "18 characters, got 19"),
        ("9144030019220382I6", "character 17 is 'I'"),
        ("91440300192203821O", "character 18 is 'O'"),
        ("9S4403001922038216", "character 2 is 'S'"),
        ("914403001922038Z16", "character 16 is 'Z'"),
        ("91440300192203-216", "character 15 is '-'"),
    ],
)
def test_malformed_credit_codes_are_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidCreditCode, match=message):
        parse_credit_code(text)


credit_parts = st.tuples(
    st.sampled_from(["91", "92", "93", "Y1", "51"]),
    st.integers(0, 999_999),
    st.integers(0, 10**8 - 1),
)


def _scalar_credit_code(prefix: str, area: int, serial: int) -> str:
    org8 = f"{serial:08d}"
    body = f"{prefix}{area:06d}{org8}{organisation_code_check_char(org8)}"
    return body + credit_code_check_char(body)


@given(st.lists(credit_parts, min_size=1, max_size=40))
def test_vectorised_credit_codes_equal_scalar_and_parse(parts: list[tuple[str, int, int]]) -> None:
    codes = credit_codes_from_parts(
        np.array([p[0] for p in parts]), np.array([p[1] for p in parts]), np.array([p[2] for p in parts])
    )
    assert codes.dtype == np.dtype("<U18")
    for code, (prefix, area, serial) in zip(codes.tolist(), parts, strict=True):
        assert code == _scalar_credit_code(prefix, area, serial)
        parsed = parse_credit_code(code)
        assert parsed.check_char_ok
        assert parsed.organisation_code_ok
        assert parsed.value[:2] == prefix
        assert parsed.area_code == f"{area:06d}"
        assert parsed.organisation_code[:8] == f"{serial:08d}"


def test_vectorised_credit_codes_cover_x_and_0_org_checks_and_stay_distinct() -> None:
    rng = np.random.default_rng(7)
    # Serial 6 has org check "X" (6*2 = 12, 12 mod 11 = 1, 11 - 1 = 10), serial 0 has "0".
    serials = np.concatenate([[0, 6], rng.choice(10**8, size=20000, replace=False)])
    serials = np.unique(serials)
    prefixes = np.full(serials.size, "91")
    areas = np.full(serials.size, 440307)
    codes = credit_codes_from_parts(prefixes, areas, serials)
    assert codes[0] == _scalar_credit_code("91", 440307, 0)
    assert codes[0][16] == "0"
    assert codes[1][16] == "X"
    assert len(set(codes.tolist())) == serials.size
    sample = rng.choice(serials.size, 500, replace=False)
    assert [codes[i] for i in sample] == [_scalar_credit_code("91", 440307, int(serials[i])) for i in sample]


@pytest.mark.parametrize(
    ("prefixes", "areas", "serials", "message"),
    [
        (["9I"], [440300], [1], "authority_and_type characters"),
        (["9"], [440300], [1], "exactly 2 characters"),
        (["911"], [440300], [1], "exactly 2 characters"),
        (["91"], [440300], [10**8], "serial"),
        (["91"], [440300], [-1], "serial"),
        (["91"], [10**6], [1], "area code"),
        (["91", "92"], [440300], [1], "same length"),
    ],
)
def test_vectorised_credit_codes_reject_bad_parts(
    prefixes: list[str], areas: list[int], serials: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        credit_codes_from_parts(np.array(prefixes), np.array(areas), np.array(serials))


@given(credit_parts, st.integers(0, 17), st.sampled_from(CREDIT_ALPHABET))
def test_changing_one_credit_character_is_flagged(
    part: tuple[str, int, int], position: int, replacement: str
) -> None:
    code = _scalar_credit_code(*part)
    if code[position] == replacement:
        return
    corrupted = code[:position] + replacement + code[position + 1 :]
    # MOD 31-3: 31 is prime and every weight is non-zero, so any single substitution changes the check.
    assert parse_credit_code(corrupted).check_char_ok is False


# ---------------------------------------------------------------------------------------------------------
# Phones and names
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "+86 138-1234-5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "008613812345678",
        "86 138 1234 5678",
        "86-13812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８－１２３４－５６７８",
        "(+86) 138.1234.5678",
        "138\u20141234\u20145678",
    ],
)
def test_mobile_normalisation(text: str) -> None:
    assert normalise_mobile(text) == "13812345678"


@pytest.mark.parametrize("number", ["13012345678", "15912345678", "16612345678", "19912345678"])
def test_every_mobile_prefix_13_to_19_is_accepted(number: str) -> None:
    assert normalise_mobile(number) == number


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+1 415 555 0100", r"\+86"),
        ("1381234567", "11 digits, got 10"),
        ("138123456789", "11 digits, got 12"),
        ("", "11 digits, got 0"),
        ("12812345678", "starts with 13 to 19, got 12"),
        ("10012345678", "starts with 13 to 19, got 10"),
        ("075 5123 4567", "landline"),
        ("1381234567a", "only digits, found 'a'"),
        ("138١2345678", "only digits"),  # an Arabic-Indic digit is a digit to str.isdigit, not to us
    ],
)
def test_invalid_mobiles_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidPhone, match=message):
        normalise_mobile(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        (" 张 三 ", "张三"),
        ("  王  小 明 ", "王小明"),
        ("张\u200b三", "张三"),
        ("\ufeff李四", "李四"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽 • 买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽･买买提", "阿依古丽·买买提"),
        ("John   Smith", "John Smith"),
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),
        ("李 Lee", "李 Lee"),
        ("𠀀 𪚥", "𠀀𪚥"),  # CJK extension B characters
        ("Rene\u200b\u0301e", "Ren\u00e9e"),  # the zero-width space must not block composing e + accent
        ("", ""),
    ],
)
def test_name_normalisation(text: str, expected: str) -> None:
    assert normalise_name(text) == expected


@given(st.text(max_size=30))
def test_name_normalisation_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@pytest.mark.parametrize(
    ("text", "message"),
    [("  ", "empty"), ("张3", "cannot contain '3'"), ("张@", "cannot contain '@'"), ("·张三", "punctuation")],
)
def test_validate_name_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        validate_name(text)


def test_validate_name_accepts_and_normalises() -> None:
    assert validate_name(" 阿依古丽 • 买买提 ") == "阿依古丽·买买提"
    assert validate_name("O'Brien-Smith") == "O'Brien-Smith"


# ---------------------------------------------------------------------------------------------------------
# Masking (the same table must hold for spatial/sql/masking.sql)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        (None, None),
        ("", ""),
        ("张", "张"),
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("阿依古丽·买买提", "阿*******"),
        ("𠀀𪚥", "𠀀*"),
    ],
)
def test_mask_name(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        (None, None),
        ("", ""),
        ("13812345678", "138****5678"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("+8613812345678", "+86*******5678"),
        ("0755-12345678", "075******5678"),
    ],
)
def test_mask_phone(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "prefix", "suffix", "masked"),
    [
        (None, 6, 4, None),
        ("11010519491231002X", 6, 4, "110105********002X"),
        ("11010519491231002X", 0, 4, "**************002X"),
        ("11010519491231002X", 0, 0, "******************"),
        ("11010519491231002X", 13, 4, "1101051949123*002X"),
        ("11010519491231002X", 14, 4, "******************"),
        ("11010519491231002X", -3, 4, "**************002X"),
        ("110105491231002", 6, 4, "110105*****1002"),
        ("1234567890", 6, 4, "**********"),
        ("12345678901", 6, 4, "123456*8901"),
        ("", 6, 4, ""),
    ],
)
def test_mask_id_number(id_number: str | None, prefix: int, suffix: int, masked: str | None) -> None:
    assert mask_id_number(id_number, prefix, suffix) == masked


def test_mask_id_number_defaults_hide_area_and_birth_date() -> None:
    assert mask_id_number("440307199001011232") == "**************1232"


@given(st.text(max_size=30), st.integers(-2, 20), st.integers(-2, 20))
def test_masks_keep_length_and_only_reveal_their_ends(text: str, prefix: int, suffix: int) -> None:
    for masked, kept_prefix, kept_suffix in [
        (mask_name(text), min(len(text), 1), 0),
        (mask_phone(text), 3 if len(text) >= 8 else 0, 4 if len(text) >= 8 else 0),
        (
            mask_id_number(text, prefix, suffix),
            *((max(prefix, 0), max(suffix, 0)) if len(text) > max(prefix, 0) + max(suffix, 0) else (0, 0)),
        ),
    ]:
        assert len(masked) == len(text)
        assert masked[:kept_prefix] == text[:kept_prefix]
        assert masked[len(text) - kept_suffix :] == text[len(text) - kept_suffix :]
        assert set(masked[kept_prefix : len(text) - kept_suffix]) <= {"*"}


def test_sql_masking_functions_are_declared_as_the_lead_expects() -> None:
    lines = MASKING_SQL.read_text(encoding="utf-8").splitlines()
    sql = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    declared = re.findall(r"CREATE OR REPLACE FUNCTION onemap\.(\w+)\(([^)]*)\)\s*RETURNS text", sql)
    assert [name for name, _ in declared] == ["mask_name", "mask_phone", "mask_id_number"]
    assert "keep_prefix int DEFAULT 0, keep_suffix int DEFAULT 4" in declared[2][1]
    assert sql.count("IMMUTABLE PARALLEL SAFE") == 3
    assert "STRICT" not in sql  # STRICT would stop the planner from inlining the CASE bodies


@settings(max_examples=25)
@given(st.lists(id_parts, min_size=1, max_size=5))
def test_masked_generated_ids_hide_area_and_birth_date(parts: list[tuple[int, date, int]]) -> None:
    for value in _build_ids(parts).tolist():
        masked = mask_id_number(value)
        assert masked[:14] == "*" * 14  # area code and birth date
        assert masked[14:] == value[14:]
