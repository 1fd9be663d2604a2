"""Clinical events read back from the read model give the rule engine the patient's
history: the status from the stored rows is the status from the events themselves."""

from __future__ import annotations

from pathlib import Path

from afterglow.core.rules.config import RuleConfig
from afterglow.core.rules.status import Status
from afterglow.readmodel import database
from afterglow.readmodel.patient_history import opted_out, rule_events, statuses
from afterglow.readmodel.projection import Position, project
from afterglow.topics import CONSENT
from tests.support.patient_story import Story, day, write

NOW = day(100)


def test_each_patients_events_come_back_in_order_and_give_their_status(tmp_path: Path) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'rm.sqlite3'}")
    database.upgrade(engine)
    write(
        engine,
        Story("relapsing").registered(baseline_phq9=20).infusion(0).answered(14, 5, item9=1)
        .answered(30, 14).answered(36, 15),
        Story("missing").registered(baseline_phq9=20).infusion(0).answered(7, 8).missed(21)
        .missed(35),
        Story("remitted").registered(baseline_phq9=16).infusion(0).answered(7, 3),
    )  # fmt: skip
    baselines = {
        "relapsing": ("clinic-a", 20),
        "missing": ("clinic-a", 20),
        "remitted": ("clinic-a", 16),
        "unknown": ("clinic-a", None),
    }
    with engine.connect() as db:
        events = rule_events(db, ["relapsing"])["relapsing"]
        found = statuses(db, baselines, NOW, lambda clinic: RuleConfig())
        strict = statuses(db, baselines, NOW, lambda clinic: RuleConfig(disengaged_streak=3))
    engine.dispose()
    assert [type(e).__name__ for e in events] == [
        "InfusionCompleted", "AssessmentCompleted", "AssessmentCompleted", "AssessmentCompleted",
    ]  # fmt: skip
    assert [getattr(e, "items", ())[8:] for e in events[1:]] == [(1,), (0,), (0,)]
    assert {pid: s.status for pid, s in found.items()} == {
        "relapsing": Status.RELAPSED,
        "missing": Status.DISENGAGED,
        "remitted": Status.REMITTER,
        "unknown": Status.NO_SCORES,
    }
    assert strict["missing"].status is Status.RESPONDER  # the clinic's own streak
    assert (found["remitted"].baseline, found["remitted"].change) == (16, -13)


def test_the_latest_consent_change_decides_whether_the_patient_opted_out(tmp_path: Path) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'rm.sqlite3'}")
    database.upgrade(engine)

    def consent(n: int, action: str, at: int) -> None:
        record = {"event_id": f"c{n}", "patient_id": "pt-1", "action": action,
                  "at": day(at).isoformat(), "source": "sms"}  # fmt: skip
        database.write_batch(engine, project(CONSENT, b"pt-1", record, Position(CONSENT, 0, n)), {})

    with engine.connect() as db:
        assert not opted_out(db, "pt-1")
    consent(1, "opt_out", 10)
    with engine.connect() as db:
        assert opted_out(db, "pt-1")
    consent(2, "opt_in", 12)
    with engine.connect() as db:
        assert not opted_out(db, "pt-1")
    engine.dispose()
