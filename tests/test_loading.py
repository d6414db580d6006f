"""Bulk loading: re-running replaces or resumes, never duplicates; an interrupted load resumes cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from api.setup import initialise_database
from spatial.database import libpq_url
from spatial.district.generate import DistrictSpec, generate_district
from spatial.district.load import load_district
from spatial.district.scale import SCALES
from spatial.errors import InvalidInput
from spatial.loading import load_parts
from tests.conftest import create_database

COUNTED = (
    "building",
    "house_unit",
    "person",
    "residence",
    "enterprise",
    "source_record",
    "planted_disagreement",
)


@pytest.fixture(scope="module")
def loading_url(empty_database_url: str) -> str:
    url = create_database(empty_database_url, "onemap_loading_test")
    initialise_database(url)
    return url


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM onemap.{t}").fetchone()[0] for t in COUNTED}  # type: ignore[index]


class Interrupted(RuntimeError):
    pass


def interrupted_after(parts: int, spec: DistrictSpec) -> Iterator[tuple[str, str, object]]:
    for index, part in enumerate(generate_district(spec)):
        if index == parts:
            raise Interrupted("simulated crash")
        yield part.name, part.table, part.rows


def test_rerun_does_not_duplicate(loading_url: str) -> None:
    load_district(loading_url, "tiny", seed=11, progress=False)
    first = counts(loading_url)
    written = load_district(loading_url, "tiny", seed=11, progress=False)
    assert written == {}  # everything was already there
    assert counts(loading_url) == first


def test_interrupted_load_resumes(loading_url: str) -> None:
    spec = DistrictSpec(SCALES["tiny"], seed=12)
    with pytest.raises(Interrupted):
        load_parts(loading_url, spec.dataset, interrupted_after(5, spec), progress=False)
    partial = counts(loading_url)
    assert partial["building"] == SCALES["tiny"].buildings and partial["source_record"] == 0
    written = load_district(loading_url, "tiny", seed=12, progress=False)
    assert "building" not in written and written["source_record"] > 0
    after = counts(loading_url)
    load_district(loading_url, "tiny", seed=12, progress=False)
    assert counts(loading_url) == after


def test_another_dataset_replaces_the_previous_one(loading_url: str) -> None:
    load_district(loading_url, "tiny", seed=13, progress=False)
    with psycopg.connect(libpq_url(loading_url)) as conn:
        datasets = {r[0] for r in conn.execute("SELECT DISTINCT dataset FROM onemap.load_progress")}
        foreign_keys = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'onemap'::regnamespace"
        ).fetchone()
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'onemap'")}
    # Secondary indexes and unique constraints are dropped for a fresh load and rebuilt after it.
    assert {
        "person_id_number_key",
        "idx_building_geom",
        "source_record_entity",
        "house_unit_room_unique",
    } <= indexes
    assert datasets == {DistrictSpec(SCALES["tiny"], seed=13).dataset}
    assert counts(loading_url)["person"] == SCALES["tiny"].persons
    assert foreign_keys is not None and foreign_keys[0] >= 10  # dropped for the load, restored after


def test_bad_arguments_are_refused(loading_url: str) -> None:
    with pytest.raises(InvalidInput, match="unknown scale"):
        load_district(loading_url, "huge")
    with pytest.raises(InvalidInput, match=r"between 0 and 0\.5"):
        load_district(loading_url, "tiny", disagreement_rate=0.9)
