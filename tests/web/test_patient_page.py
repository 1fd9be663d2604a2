"""The patient page over real HTTP on a read model written by the real projection: scores
with item 9, the alerts with who did what, the texts; another clinic's patient is 404;
every view is recorded on the audit trail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from afterglow.topics import (
    AUDIT,
    CLINICAL_EVENTS,
    PATIENTS,
    SMS_OUTBOUND,
    SMS_PATIENT_INBOUND,
    topic_spec,
)
from afterglow.validation import default_catalog
from tests.sms.fakes import RecordingPublisher
from tests.support.patient_story import Story, write
from tests.support.records import patient
from tests.web.test_inbox import NOW, Client, _log_in, _project, _run


def _assessment(event_id: str, day: int, items: list[int]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "assessment_completed",
        "patient_id": "pt-1",
        "occurrence_id": f"occ-{day}",
        "at": f"2026-11-{day:02d}T15:00:00+00:00",
        "items": items,
        "total": sum(items),
        "severity": "moderate",
    }


def _history(engine: Engine) -> None:
    _project(
        engine,
        CLINICAL_EVENTS,
        [
            _assessment("as-2", 20, [1, 1, 1, 1, 1, 1, 1, 1, 1]),
            _assessment("as-1", 6, [2, 2, 2, 2, 2, 2, 2, 2, 0]),
        ],
        first=200,
    )
    _project(
        engine,
        SMS_OUTBOUND,
        [{"send_key": "k-1", "patient_id": "pt-1", "to": "+15555550101",
          "body": "How have you been feeling?", "category": "questionnaire",
          "at": "2026-11-20T14:00:00+00:00"}],
        first=300,
    )  # fmt: skip
    _project(
        engine,
        SMS_PATIENT_INBOUND,
        [{"message_sid": "SMin1", "patient_id": "pt-1", "from": "+15555550101",
          "body": "1 1 1 1 1 1 1 1 1", "received_at": "2026-11-20T14:30:00+00:00"}],
        first=400,
    )  # fmt: skip


def test_a_clinician_sees_the_patients_scores_alerts_and_texts(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _history(engine)
        await _log_in(client, "lee@a.example")
        async with client.get("/patients/pt-1") as response:
            assert response.status == 200
            html = await response.text()
        assert "Ana Example" in html
        totals = re.findall(r'data-total="(\d+)"', html)
        assert totals == ["16", "9"]  # oldest first
        assert "(thoughts of self-harm)" in html  # the later score answered item 9 with 1
        assert re.findall(r'id="alerts".*?</table>', html, re.S)
        assert 'data-alert-id="al-p1-old"' in html
        assert 'data-alert-id="al-p2"' not in html  # Ben's alert
        assert "How have you been feeling?" in html
        assert "1 1 1 1 1 1 1 1 1" in html

    _run(tmp_path, scenario)


def test_every_view_is_recorded_on_the_audit_trail(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        async with client.get("/patients/pt-1") as response:
            assert response.status == 200
        views = [record for topic, record in publisher.calls if topic == AUDIT]
        assert len(views) == 1
        view = views[0]
        assert (view["patient_id"], view["action"], view["actor"], view["at"]) == (
            "pt-1", "viewed", "lee@a.example", NOW.isoformat(),
        )  # fmt: skip
        default_catalog().validate(topic_spec(AUDIT).schema, view)

    _run(tmp_path, scenario)


def test_another_clinics_patient_and_an_unknown_one_are_both_404(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "kim@b.example")
        for path in ("/patients/pt-1", "/patients/nobody"):
            async with client.get(path) as response:
                assert response.status == 404
        assert publisher.calls == []  # nothing was viewed

    _run(tmp_path, scenario)


def test_an_id_with_a_slash_space_and_accent_opens_its_page(tmp_path: Path) -> None:
    odd = "clinic-a/Zoë 7"

    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        _project(engine, PATIENTS, [patient(odd, display_name="Zoe Example")], first=500)
        await _log_in(client, "lee@a.example")
        async with client.get("/patients/clinic-a%2FZo%C3%AB%207") as response:
            assert response.status == 200
            assert "Zoe Example" in await response.text()

    _run(tmp_path, scenario)


def test_logged_out_the_page_redirects_to_the_login(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        async with client.get("/patients/pt-1", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=")

    _run(tmp_path, scenario)


def test_the_page_shows_the_status_the_chart_data_and_the_check_in_plan(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        write(
            engine,
            Story("pt-1").infusion(0).infusion(2).answered(7, 6, item9=1).infusion(60)
            .answered(70, 5).missed(75).sent(91),
        )  # fmt: skip
        await _log_in(client, "lee@a.example")
        async with client.get("/patients/pt-1") as response:
            html = await response.text()
        # Baseline 18 (registration); 5 is under half of it.
        assert 'data-status="responder"' in html
        assert '<span id="change">-13</span>' in html
        assert "1 check-in missed in a row" in html
        assert 'data-baseline="18" data-response="9.0" data-remission="5"' in html
        assert re.findall(r'data-total="(\d+)" data-item9="(\d*)"', html) == [
            ("6", "1"),
            ("5", "0"),
        ]
        assert re.findall(r'data-role="(\w+)"', html) == ["series_start", "in_series", "booster"]
        assert "The chart needs JavaScript" in html  # in <noscript>
        assert '<script src="/static/patient-chart.js" defer></script>' in html
        plan = dict(re.findall(r'data-occurrence-id="([^"]+)" data-outcome="(\w+)"', html))
        assert plan["occ-70"] == "answered"
        assert plan["occ-75"] == "missed"
        assert plan["occ-91"] == "open"
        assert len(re.findall(r'class="overdue"', html)) == 2  # the missed one and day 91
        # The planner's next follow-ups after the booster of day 60 (2026-10-31, Chicago).
        planned = [k for k, v in plan.items() if v == "planned"]
        assert planned[:2] == ["pt-1:inf60:d042", "pt-1:inf60:d056"]

    _run(tmp_path, scenario)
