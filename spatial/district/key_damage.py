"""Keys as verifying departments really send them: a share missing (a blank cell) and a share garbled (one digit
typed wrong, the check character recomputed by the sending system, so the key still passes every check), for
entity resolution to find the right entity by what else the row holds.

A garbled key is chosen so that it is nobody's key: the digit changed is one no generated key uses (the first
digit of an ID number's sequence, of a building's number in its grid), or one of seven organisation code
characters of a credit code (31^7 codes, against some hundred thousand issued).
"""

from __future__ import annotations

import numpy as np

from spatial.identifiers import credit_code_check_char, id_number_check_char, organisation_code_check_char

MISSING = "missing"
GARBLED = "garbled"
DIGITS = "0123456789"


def _other_digit(digit: str, rng: np.random.Generator, choices: str = DIGITS) -> str:
    options = [d for d in choices if d != digit]
    return options[int(rng.integers(0, len(options)))]


def garble_id_number(key: str, rng: np.random.Generator) -> str:
    """Characters 15-17 are the sequence within area and birth date; the generated ones stay below 500."""
    body = key[:14] + _other_digit(key[14], rng, "56789") + key[15:17]
    return body + id_number_check_char(body)


def garble_credit_code(key: str, rng: np.random.Generator) -> str:
    """One character of the organisation code body (characters 10-16), both check characters recomputed."""
    position = 9 + int(rng.integers(0, 7))
    organisation = key[8:position] + _other_digit(key[position], rng) + key[position + 1 : 16]
    body = key[:8] + organisation + organisation_code_check_char(organisation)
    return body + credit_code_check_char(body)


def garble_building_code(key: str, rng: np.random.Generator) -> str:
    """The last four digits number the building in its grid; no grid holds eight thousand, so 8xxx or 9xxx is
    nobody's."""
    return key[:-4] + _other_digit(key[-4], rng, "89") + key[-3:]


GARBLERS = {"id_number": garble_id_number, "credit_code": garble_credit_code, "code": garble_building_code}


def damage_keys(
    keys: np.ndarray, attribute: str, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(keys as sent, damage per row: MISSING, GARBLED or None): a share `rate` damaged, half each way."""
    sent = keys.astype(object).copy()
    damage = np.full(len(keys), None, dtype=object)
    hit = np.flatnonzero(rng.random(len(keys)) < rate)
    missing = rng.random(len(hit)) < 0.5
    damage[hit[missing]] = MISSING
    sent[hit[missing]] = None
    garble = GARBLERS[attribute]
    for row in hit[~missing]:
        damage[row] = GARBLED
        sent[row] = garble(str(keys[row]), rng)
    return sent, damage
