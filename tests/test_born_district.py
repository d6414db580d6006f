"""The tiny district born from its deliveries (``onemap generate --from-deliveries``, the demo's default) in a
database of its own: what fusion made of the departments' files is the generator's truth, and building it again
resumes instead of redoing anything."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from spatial.database import libpq_url
from spatial.district.born import born_district
from spatial.district.events import generate_events
from spatial.district.generate import entity_tables
from spatial.district.load_district import district_spec
from tests.conftest import TEST_RATE, TEST_SEED, create_database


@pytest.fixture(scope="module")
def born_url(empty_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from api.setup import initialise_database

    url = create_database(empty_database_url, f"onemap_born_{os.getpid()}")
    initialise_database(url)
    born_district(url, tmp_path_factory.mktemp("deliveries"), "tiny", TEST_SEED, TEST_RATE, progress=False,
                  announce=lambda _: None)  # fmt: skip
    return url


@pytest.fixture
def db(born_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(born_url), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def truth() -> dict[str, pd.DataFrame]:
    return entity_tables(district_spec("tiny", TEST_SEED, TEST_RATE))


def _frame(db: psycopg.Connection, query: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(db.execute(query).fetchall(), columns=columns)


def test_archives_are_the_generators_truth(db: psycopg.Connection, truth: dict[str, pd.DataFrame]) -> None:
    buildings = _frame(db, "SELECT code, floors, use, built_year, grid_code FROM onemap.building ORDER BY code",
                       ["code", "floors", "use", "built_year", "grid_code"])  # fmt: skip
    expected = truth["building"][["code", "floors", "use", "built_year", "grid_code"]].sort_values("code")
    assert buildings.astype(str).values.tolist() == expected.astype(str).values.tolist()
    persons = _frame(db, "SELECT id_number, name, sex, birth_date FROM onemap.person ORDER BY id_number",
                     ["id_number", "name", "sex", "birth_date"])  # fmt: skip
    people = truth["person"].sort_values("id_number")
    assert persons["id_number"].tolist() == people["id_number"].tolist()
    assert persons["name"].tolist() == people["name"].tolist()
    assert persons["birth_date"].astype(str).tolist() == people["birth_date"].astype(str).tolist()
    firms = _frame(db, "SELECT credit_code, name FROM onemap.enterprise ORDER BY credit_code", ["code", "name"])
    registered = truth["enterprise"].sort_values("credit_code")
    assert firms["code"].tolist() == registered["credit_code"].tolist()
    assert firms["name"].tolist() == registered["name"].tolist()
    units = db.execute("SELECT count(*) FROM onemap.house_unit").fetchone()
    homes = db.execute("SELECT count(*) FROM onemap.residence WHERE valid_to IS NULL").fetchone()
    assert units == (len(truth["house_unit"]),)
    assert homes == (int(truth["residence"]["valid_to"].isna().sum()),)


def test_entities_are_valid_from_their_records_dates_not_the_day_they_arrived(
    db: psycopg.Connection, truth: dict[str, pd.DataFrame]
) -> None:
    """A born archive knows the district's past as a generated one does: built, born, registered, moved in."""
    def since(query: str) -> dict[str, str]:
        return {key: str(valid_from.date()) for key, valid_from in db.execute(query).fetchall()}

    def truth_since(frame: pd.DataFrame, key: str) -> dict[str, str]:
        return dict(zip(frame[key].astype(str), pd.to_datetime(frame["valid_from"]).dt.strftime("%Y-%m-%d"),
                        strict=True))  # fmt: skip

    assert since("SELECT code, valid_from FROM onemap.building") == truth_since(truth["building"], "code")
    assert since("SELECT id_number, valid_from FROM onemap.person") == truth_since(truth["person"], "id_number")
    assert since("SELECT credit_code, valid_from FROM onemap.enterprise") == truth_since(
        truth["enterprise"], "credit_code"
    )
    # moved in the same update that gave them their values: no version of them before that is history
    for archive in ("building", "house_unit", "person", "enterprise"):
        assert db.execute(f"SELECT count(*) FROM onemap.{archive}_history").fetchone() == (0,), archive
    rooms = db.execute("SELECT count(*) FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id "
                       "WHERE u.valid_from <> g.valid_from").fetchone()  # fmt: skip
    assert rooms == (0,)
    homes = truth["residence"][truth["residence"]["valid_to"].isna()]
    id_numbers = truth["person"].set_index("id")["id_number"]
    moved_in = dict(zip(id_numbers.loc[homes["person_id"]], pd.to_datetime(homes["valid_from"]).dt.strftime(
        "%Y-%m-%d"), strict=True))  # fmt: skip
    born_homes = db.execute(
        "SELECT p.id_number, r.valid_from FROM onemap.residence r "
        "JOIN onemap.person p ON p.id = r.person_id WHERE r.valid_to IS NULL"
    ).fetchall()
    assert {key: str(valid_from) for key, valid_from in born_homes} == moved_in
    # "as of" a past date: what existed then, no more, no less
    as_of = db.execute("SELECT count(*) FROM onemap.building WHERE valid_from <= '2005-06-30'").fetchone()
    assert as_of == ((pd.to_datetime(truth["building"]["valid_from"]) <= pd.Timestamp("2005-06-30", tz="UTC")).sum(),)


def test_events_point_at_the_buildings_fusion_numbered(
    db: psycopg.Connection, truth: dict[str, pd.DataFrame]
) -> None:
    """Fusion gives buildings its own ids: each event is in the building of the generator's, found by code."""
    spec = district_spec("tiny", TEST_SEED, TEST_RATE)
    events = generate_events(spec.scale.events, truth["building"], spec.rng("events"))
    codes = truth["building"].set_index("id")["code"].loc[events["building_id"]].tolist()
    loaded = db.execute(
        "SELECT g.code FROM onemap.event e JOIN onemap.building g ON g.id = e.building_id ORDER BY e.id"
    ).fetchall()
    assert [code for (code,) in loaded] == codes


def test_planted_disagreements_come_from_the_answer_key(db: psycopg.Connection) -> None:
    planted = db.execute("SELECT count(*), count(DISTINCT department) FROM onemap.planted_disagreement").fetchone()
    assert planted is not None and planted[0] > 100 and planted[1] >= 3


def test_born_again_resumes_and_changes_nothing(
    born_url: str, db: psycopg.Connection, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same district on the same database: files already delivered are no-ops, fusion finds nothing new."""
    counts = "SELECT (SELECT count(*) FROM onemap.person), (SELECT count(*) FROM onemap.source_record), " \
             "(SELECT count(*) FROM onemap.event), (SELECT count(*) FROM onemap.fusion_run)"  # fmt: skip
    before = db.execute(counts).fetchone()
    folder: Path = tmp_path_factory.mktemp("deliveries-again")
    report = born_district(born_url, folder, "tiny", TEST_SEED, TEST_RATE, progress=False, announce=print)
    assert report.created == {}
    assert report.delivered_rows == 0
    assert db.execute(counts).fetchone() == before


def test_the_next_survey_of_the_same_rooms_and_buildings_moves_nothing(db: psycopg.Connection) -> None:
    """Housing sends its survey again, unchanged: every entity keeps its start and no history version is made (the
    creator's records of entities that already exist must not be taken for new ones)."""
    from spatial.fusion.engine import run_fusion

    starts = "SELECT (SELECT array_agg(valid_from ORDER BY id) FROM onemap.house_unit), " \
             "(SELECT array_agg(valid_from ORDER BY id) FROM onemap.building)"  # fmt: skip
    before = db.execute(starts).fetchone()
    db.execute(
        "INSERT INTO onemap.source_record (department, entity_kind, entity_key, payload) "
        "SELECT department, entity_kind, entity_key, payload FROM onemap.source_record "
        "WHERE department = 'housing' ORDER BY id"
    )
    report = run_fusion(db)
    assert report.records > 5_000 and report.rejected == 0
    assert db.execute(starts).fetchone() == before
    for archive in ("building", "house_unit"):
        assert db.execute(f"SELECT count(*) FROM onemap.{archive}_history").fetchone() == (0,), archive


def test_born_again_from_other_files_fuses_them_although_fusion_ran_before(
    born_url: str, db: psycopg.Connection, truth: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Another dataset on the same database (here: no keys damaged) starts over. The new deliveries' record ids
    start again from 1, below the earlier fusion runs' high-water marks, which must not hide them. Last in this
    module: it replaces the district the tests above read."""
    folder: Path = tmp_path_factory.mktemp("deliveries-other")
    report = born_district(born_url, folder, "tiny", TEST_SEED, TEST_RATE, key_damage_rate=0.0, progress=False,
                           announce=lambda _: None)  # fmt: skip
    assert report.created["created_persons"] == len(truth["person"])
    assert report.created["created_buildings"] == len(truth["building"])
    row = db.execute("SELECT count(*), min(id) FROM onemap.source_record").fetchone()
    assert row is not None and row[1] == 1, "the new records were numbered from 1 (what hid them)"
    assert db.execute("SELECT count(*) FROM onemap.person").fetchone() == (len(truth["person"]),)
    assert db.execute("SELECT count(*) FROM onemap.fusion_run").fetchone() == (len(report.fusion_steps),)
