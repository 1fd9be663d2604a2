"""The patient list's query (docs/operators.md, "The patient list"): only the user's
clinics, riskiest first, searched by name or id with wildcards taken literally, paged; on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from afterglow.readmodel import database
from afterglow.readmodel.patient_list import PAGE_SIZE, ListQuery, PatientPage, patient_list
from afterglow.readmodel.projection import Position, project
from afterglow.topics import PATIENTS
from tests.postgres_fixtures import DATABASES
from tests.support.patient_story import Story, day, write

NOW = day(100)
EVERYONE = ListQuery()


@pytest.fixture(params=DATABASES)
def engine(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "postgresql":
        create: Callable[[], str] = request.getfixturevalue("postgres_database")
        url = create()
    else:
        url = f"sqlite:///{tmp_path / 'rm.sqlite3'}"
    engine = database.create_readmodel_engine(url)
    database.upgrade(engine)
    yield engine
    engine.dispose()


def _list(
    engine: Engine, wanted: ListQuery = EVERYONE, clinics: tuple[str, ...] = ("clinic-a",)
) -> PatientPage:
    with engine.connect() as db:
        return patient_list(db, clinics, wanted, NOW)


def _ids(page: PatientPage) -> list[str]:
    return [p.patient_id for p in page.patients]


def test_open_alerts_first_then_overdue_check_ins_then_the_highest_latest_score(
    engine: Engine,
) -> None:
    write(
        engine,
        Story("calm", ).registered(display_name="Cal Calm").infusion(0).answered(7, 3),
        Story("high").registered(display_name="Hana High").infusion(0).answered(7, 19),
        Story("p2").registered(display_name="Pat Two").infusion(0).answered(7, 2).alert("P2"),
        Story("p1").registered(display_name="Pia One").infusion(0).answered(7, 2).alert("P1")
        .alert("P3"),
        Story("done").registered(display_name="Dan Done").answered(7, 2).alert("P1", "resolved"),
        Story("quiet").registered(display_name="Quinn Quiet").infusion(0).answered(7, 1)
        .missed(60).sent(90).sent(99.5),
        Story("new").registered(display_name="Nia New"),
        Story("other", clinic_id="clinic-b").registered(display_name="Ola Other").alert("P1"),
    )  # fmt: skip
    page = _list(engine)
    assert _ids(page) == ["p1", "p2", "quiet", "high", "calm", "done", "new"]
    rows = {p.patient_id: p for p in page.patients}
    assert rows["p1"].open_priority == "P1"
    assert rows["done"].open_priority is None  # resolved
    # missed on day 60 and open since day 90; the one sent 12 hours ago is not overdue yet
    assert rows["quiet"].overdue == 2
    assert (rows["high"].last_total, rows["high"].last_at) == (19, day(7, 2))
    assert rows["new"].last_total is None
    assert page.total == 7


def test_only_the_users_clinics_and_a_clinic_filter_within_them(engine: Engine) -> None:
    write(
        engine,
        Story("a1").registered(display_name="Ana"),
        Story("b1", clinic_id="clinic-b").registered(display_name="Ben"),
        Story("c1", clinic_id="clinic-c").registered(display_name="Cy"),
    )
    assert _ids(_list(engine, clinics=("clinic-a", "clinic-b"))) == ["a1", "b1"]
    assert _ids(_list(engine, ListQuery(clinic_id="clinic-b"), ("clinic-a", "clinic-b"))) == ["b1"]
    assert _ids(_list(engine, ListQuery(clinic_id="clinic-c"), ("clinic-a",))) == []
    assert _list(engine, clinics=()).total == 0


def test_search_matches_part_of_a_name_or_an_id_and_wildcards_are_literal(engine: Engine) -> None:
    write(
        engine,
        Story("pt-100").registered(display_name="Ana María Example"),
        Story("pt-200").registered(display_name="Ben 50% Example"),
        Story("pt_300").registered(display_name="Cy Example"),
    )
    assert _ids(_list(engine, ListQuery(text="maría"))) == ["pt-100"]
    assert _ids(_list(engine, ListQuery(text="ANA"))) == ["pt-100"]
    assert _ids(_list(engine, ListQuery(text="pt-2"))) == ["pt-200"]
    assert _ids(_list(engine, ListQuery(text="%"))) == ["pt-200"]
    assert _ids(_list(engine, ListQuery(text="_"))) == ["pt_300"]
    assert _ids(_list(engine, ListQuery(text="pt_"))) == ["pt_300"]
    assert _ids(_list(engine, ListQuery(text="nobody"))) == []


def test_a_removed_patient_is_not_listed(engine: Engine) -> None:
    write(engine, Story("gone").registered(display_name="Gone"), Story("kept").registered())
    database.write_batch(engine, project(PATIENTS, b"gone", None, Position(PATIENTS, 0, 99)), {})
    assert _ids(_list(engine)) == ["kept"]


def test_pages_of_fifty(engine: Engine) -> None:
    write(engine, *(Story(f"pt-{n:03d}").registered(display_name=f"P {n:03d}") for n in range(120)))
    first, third = _list(engine), _list(engine, ListQuery(page=3))
    assert (len(first.patients), first.total, first.pages) == (PAGE_SIZE, 120, 3)
    assert _ids(third) == [f"pt-{n:03d}" for n in range(100, 120)]
    assert _ids(_list(engine, ListQuery(page=4))) == []
