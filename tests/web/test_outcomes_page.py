"""The clinic outcomes page over real HTTP, on a read model written by the real projection
of a fictional cohort: the director sees the figures that the outcomes core computes from
the same facts (aggregates only, no name); another clinic's clinician, an operator and a
logged-out visitor do not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from afterglow.core.outcomes.export import as_json
from afterglow.core.outcomes.report import outcomes
from afterglow.core.rules.config import RuleConfig
from tests.sms.fakes import RecordingPublisher
from tests.support.outcomes_cohort import (
    NOW,
    PERIOD,
    alert_rows,
    checkin_rows,
    cohort,
    histories,
    records,
)
from tests.web.test_inbox import Client, _log_in, _project, _run

URL = "/clinics/clinic-a/outcomes?from=2026-01-01&to=2026-06-30"


def project_cohort(engine: Engine) -> None:
    for topic, values in records(cohort()).items():
        _project(engine, topic, values, first=1000)


def _attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def page_figures(html: str) -> dict[str, Any]:
    """The page's figures (from its data attributes) in the shape of the report's JSON."""

    def tag(pattern: str) -> dict[str, str]:
        found = re.search(pattern, html)
        assert found is not None, pattern
        return _attrs(found.group(0))

    def fraction(row: str, name: str) -> dict[str, int]:
        cell = _attrs(re.search(rf'<td data-figure="{name}"[^>]*>', row).group(0))  # type: ignore[union-attr]
        return {"count": int(cell["count"]), "of": int(cell["of"])}

    cohort_tag = tag(r'<p id="cohort"[^>]*>')
    relapse = tag(r'<p id="relapse"[^>]*>')
    boosters = tag(r"<tr data-patients=[^>]*>")
    return {
        "cohort": {"series": int(cohort_tag["series"]), "patients": int(cohort_tag["patients"])},
        "weeks": [
            {
                "week": int(_attrs(row)["week"]),
                "window_closed": int(_attrs(row)["window-closed"]),
                "assessed": int(_attrs(row)["assessed"]),
                "remission": fraction(row, "remission"),
                "response": fraction(row, "response"),
            }
            for row in re.findall(r"<tr data-week=.*?</tr>", html)
        ],
        "relapse": {
            "responders": int(relapse["responders"]),
            "relapses": int(relapse["relapses"]),
            "median": _number(relapse["median"]),
            "median_ci_95": [_number(relapse["median-lower"]), _number(relapse["median-upper"])],
            "curve": [
                (float(a["time"]), float(a["survival"]))
                for a in map(_attrs, re.findall(r"<tr data-time=[^>]*>", html))
            ],
        },
        "boosters": {"patients": int(boosters["patients"]), "boosters": int(boosters["boosters"])},
        "checkins": fraction(html, "checkins"),
        "alert_burden": [
            {"clinician": a["clinician"], "month": a["month"], "alerts": int(a["alerts"])}
            for a in map(_attrs, re.findall(r"<tr data-clinician=[^>]*>", html))
        ],
    }


def json_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The same figures picked from the JSON of `afterglow report outcomes`."""

    def fraction(f: dict[str, Any]) -> dict[str, int]:
        return {"count": f["count"], "of": f["of"]}

    km = report["time_to_relapse"]
    return {
        "cohort": report["cohort"],
        "weeks": [
            {
                **{k: w[k] for k in ("week", "window_closed", "assessed")},
                "remission": fraction(w["remission"]),
                "response": fraction(w["response"]),
            }
            for w in report["weeks"]
        ],
        "relapse": {
            "responders": km["responders"],
            "relapses": km["relapses"],
            "median": km["median"],
            "median_ci_95": km["median_ci_95"],
            "curve": [(p["time"], p["survival"]) for p in km["curve"]],
        },
        "boosters": {k: report["boosters"][k] for k in ("patients", "boosters")},
        "checkins": {"count": report["checkins"]["completed"], "of": report["checkins"]["sent"]},
        "alert_burden": report["alert_burden"],
    }


def test_a_clinician_of_the_clinic_sees_the_cohorts_outcomes(tmp_path: Path) -> None:
    trajectories = cohort()
    expected = as_json(
        outcomes(
            "clinic-a",
            PERIOD,
            NOW,
            histories(trajectories),
            checkin_rows(trajectories),
            alert_rows(trajectories),
            RuleConfig(),
        )
    )

    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        project_cohort(engine)
        await _log_in(client, "lee@a.example")
        async with client.get(URL) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        figures = page_figures(html)
        assert figures == json_figures(expected)
        assert figures["cohort"]["series"] > 40
        assert figures["relapse"]["median"] is not None
        assert len(figures["alert_burden"]) > 5
        assert "Fictional" not in html  # aggregates only: no patient's name
        assert re.search(r'<svg class="km" role="img"[^>]*>\s*<title id="km-title">', html)
        steps = re.search(r'<path class="survival" d="([^"]+)"', html)
        assert steps is not None
        assert steps.group(1).count("V") == len(figures["relapse"]["curve"])
        assert " style=" not in html  # the CSP allows no inline style

    _run(tmp_path, scenario)


def test_another_clinics_clinician_and_an_operator_get_404(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        project_cohort(engine)
        for user, own in (("kim@b.example", "clinic-b"), ("ops@a.example", None)):
            await _log_in(client, user)
            async with client.get(URL) as response:
                assert response.status == 404, user
                assert "Clinic outcomes" not in await response.text()
            if own is not None:
                async with client.get(f"/clinics/{own}/outcomes") as response:
                    assert response.status == 200  # their own clinic's page
        async with client.get("/clinics/nowhere/outcomes") as response:
            assert response.status == 404

    _run(tmp_path, scenario)


def test_logged_out_the_page_redirects_to_the_login(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        async with client.get(URL, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=")

    _run(tmp_path, scenario)


def test_a_period_that_is_not_dates_or_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        await _log_in(client, "lee@a.example")
        for query in ("from=2026-13-01", "from=2026-06-01&to=2026-05-01"):
            async with client.get(f"/clinics/clinic-a/outcomes?{query}") as response:
                assert response.status == 400, query
        async with client.get("/clinics/clinic-a/outcomes") as response:
            assert response.status == 200  # the year up to today
            html = await response.text()
        assert 'name="to" value="2026-12-03"' in html
        assert 'name="from" value="2025-12-04"' in html

    _run(tmp_path, scenario)
