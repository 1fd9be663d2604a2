"""GET /patients over real HTTP: the user's clinics only, riskiest first, each row's latest
score, change from baseline, status and overdue check-ins, a search box, links to the
patient page; logged out it sends to the login."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from tests.sms.fakes import RecordingPublisher
from tests.support.patient_story import Story, write
from tests.web.test_inbox import Client, _log_in, _run


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-patient-id="([^"]+)"', html)


async def _list(client: Client, query: str = "") -> str:
    async with client.get(f"/patients{query}") as response:
        assert response.status == 200
        return await response.text()


def test_a_clinician_sees_their_clinics_patients_riskiest_first_with_status(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        write(
            engine,
            Story("pt-1").infusion(0).answered(7, 6),  # baseline 18: 6 is a response
            Story("pt-2").infusion(0).answered(7, 16).missed(40).missed(60),
        )
        await _log_in(client, "lee@a.example")
        html = await _list(client)
        assert _rows(html) == ["pt-2", "pt-1"]  # both have an open P1; Ben has overdue ones
        ana = re.search(r'<tr data-patient-id="pt-1">.*?</tr>', html, re.S)
        ben = re.search(r'<tr data-patient-id="pt-2">.*?</tr>', html, re.S)
        assert ana is not None
        assert ben is not None
        assert 'href="/patients/pt-1"' in ana.group(0)
        assert "Ana Example" in ana.group(0)
        assert ">responder<" in ana.group(0)
        assert "-12 <small>from 18</small>" in ana.group(0)
        assert "6 <small>on 2026-09-08</small>" in ana.group(0)
        assert ">disengaged<" in ben.group(0)
        assert "<td>2</td>" in ben.group(0)  # two missed check-ins, overdue
        assert "Bea Other" not in html  # clinic-b
        assert publisher.calls == []  # a list is not a view of one patient's record

    _run(tmp_path, scenario)


def test_search_by_name_or_id_and_a_clinic_outside_the_users_shows_nobody(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        assert _rows(await _list(client, "?q=ben")) == ["pt-2"]
        assert _rows(await _list(client, "?q=PT-1")) == ["pt-1"]
        assert 'value="ben"' in await _list(client, "?q=ben")  # the box keeps the query
        assert _rows(await _list(client, "?q=%25")) == []
        assert _rows(await _list(client, "?clinic=clinic-b")) == []
        for page in ("x", "0", "-1", "²", "9" * 5000):
            assert _rows(await _list(client, f"?page={page}")) == ["pt-1", "pt-2"]  # by name
        assert _rows(await _list(client, "?page=2")) == []
        await _log_in(client, "kim@b.example")
        assert _rows(await _list(client)) == ["pt-b"]

    _run(tmp_path, scenario)


def test_logged_out_the_list_redirects_to_the_login(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        async with client.get("/patients?q=ana", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=/patients")

    _run(tmp_path, scenario)
