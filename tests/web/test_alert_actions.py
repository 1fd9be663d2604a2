"""Acknowledge and resolve before anything is published: what reaches
`afterglow.alert-actions` is what the worker's schema accepts, and anything the worker's
alert desk would refuse is refused at once, with nothing published (docs/operators.md,
"Alerts")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from afterglow.topics import ALERT_ACTIONS
from afterglow.validation import default_catalog
from afterglow.web.alert_actions import AlertActions, Outcome
from tests.sms.fakes import RecordingPublisher
from tests.support.alert_lookup import FakeLookup, open_alert

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ACTOR = "lee@clinic-a.example"


class FixedClock:
    def now(self) -> datetime:
        return NOW


def _submit(
    lookup: FakeLookup,
    action: str = "acknowledge",
    alert_id: str = "a1b2",
    patient_id: str = "pt-1",
    actor: str = ACTOR,
    outcome: str | None = None,
) -> tuple[Outcome, RecordingPublisher]:
    publisher = RecordingPublisher()
    actions = AlertActions(publisher, lookup, FixedClock())
    done = asyncio.run(
        actions.submit(action, alert_id, patient_id, actor, via="dashboard", outcome=outcome)
    )
    return done, publisher


def test_an_acknowledgment_is_published_as_the_worker_accepts_it() -> None:
    done, publisher = _submit(FakeLookup())
    assert done.status == 202
    [(topic, record)] = publisher.calls
    assert topic == ALERT_ACTIONS
    default_catalog().validate(topic, record)
    assert {k: record[k] for k in ("type", "alert_id", "patient_id", "actor", "via", "at")} == {
        "type": "acknowledge",
        "alert_id": "a1b2",
        "patient_id": "pt-1",
        "actor": ACTOR,
        "via": "dashboard",
        "at": NOW.isoformat(),
    }


def test_resolving_needs_a_known_outcome_and_the_refusal_lists_them() -> None:
    for outcome in (None, "", "sorted it out"):
        done, publisher = _submit(FakeLookup(), "resolve", outcome=outcome)
        assert done.status == 400
        assert "reached_plan_made" in done.message
        assert publisher.calls == []
    done, publisher = _submit(FakeLookup(), "resolve", outcome="Unreachable welfare-check")
    assert done.status == 202
    [(topic, record)] = publisher.calls
    default_catalog().validate(topic, record)
    assert record["outcome"] == "unreachable_welfare_check"


def test_an_alert_that_is_not_open_for_the_patient_is_404_and_nothing_is_published() -> None:
    lookup = FakeLookup([open_alert("a1b2", "pt-1"), open_alert("c3d4", "pt-2")])
    for action, alert_id, patient_id in [
        ("acknowledge", "unknown-alert", "pt-1"),
        ("resolve", "unknown-alert", "pt-1"),
        ("resolve", "c3d4", "pt-1"),  # pt-2's alert, sent for pt-1
        ("acknowledge", "a1b2", "pt-2"),
        ("acknowledge", "a\nb", "pt-1"),  # no alert can have such an id
    ]:
        outcome = "other" if action == "resolve" else None
        done, publisher = _submit(lookup, action, alert_id, patient_id, outcome=outcome)
        assert done.status == 404, alert_id
        assert "no open alert" in done.message
        assert publisher.calls == []


@pytest.mark.parametrize(
    "actor",
    [
        "",
        "   ",
        "c" * 201,
        "lee@clinic-a.example\n2026-01-17T14:20:00  audit  kim@clinic-a.example  resolved",
        "lee@clinic-a.example\r",
        "lee@\x1b[2Kclinic-a.example",  # ANSI: erase the line on a terminal
        "lee@clinic-a.example\t",
        "lee@\u202eclinic-a.example",  # bidi override
        "lee@clinic-a.example\x00",
    ],
    ids=["empty", "blank", "too-long", "newline", "cr", "ansi", "tab", "bidi", "nul"],
)
def test_a_bad_actor_is_400_without_asking_the_worker(actor: str) -> None:
    lookup = FakeLookup()
    for action, outcome in [("acknowledge", None), ("resolve", "other")]:
        done, publisher = _submit(lookup, action, actor=actor, outcome=outcome)
        assert done.status == 400
        assert done.message.startswith("actor ")
        assert publisher.calls == []
    assert lookup.asked == []


def test_an_actor_at_the_length_limit_is_accepted() -> None:
    done, publisher = _submit(FakeLookup(), actor="c" * 200)
    assert done.status == 202
    default_catalog().validate(*publisher.calls[0])


@pytest.mark.parametrize(
    "patient_id",
    ["", " ", "p" * 129, "pt-1\n", "pt-\x1b[0m1"],
    ids=["empty", "blank", "too-long", "newline", "ansi"],
)
def test_a_bad_patient_id_is_400_and_nothing_is_published(patient_id: str) -> None:
    done, publisher = _submit(FakeLookup(), patient_id=patient_id)
    assert done.status == 400
    assert done.message.startswith("patient_id ")
    assert publisher.calls == []


def test_when_the_worker_cannot_say_it_is_503_and_nothing_is_published() -> None:
    done, publisher = _submit(FakeLookup(unavailable=True))
    assert done.status == 503
    assert "not reachable" in done.message
    assert "nothing was recorded" in done.message
    assert publisher.calls == []
