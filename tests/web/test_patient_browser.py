"""The patient page in a real browser (Debian's Chromium through Playwright), served
in-process: log in, and the chart plots exactly the scores the table lists, under the
page's CSP. With AFTERGLOW_SCREENSHOTS=1 it saves docs/screenshots/patient.png."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.web.app import create_web_app
from tests.sms.fakes import RecordingPublisher
from tests.support.alert_lookup import FakeLookup
from tests.support.patient_story import Story, write
from tests.support.web_thread import served

pytestmark = pytest.mark.browser

PASSWORD = "violet kettle under the stairs"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _story() -> Story:
    story = Story("pt-1").registered(display_name="Ana Example", baseline_phq9=21)
    for day in (0, 2, 4, 7, 9, 11):
        story.infusion(day)
    story.answered(14, 13).answered(21, 10, item9=1).answered(28, 8).answered(42, 5)
    story.answered(56, 3).answered(70, 12).infusion(72).answered(79, 7).answered(86, 4)
    return story.sent(89).alert("P2")


def test_the_chart_plots_exactly_the_rows_of_the_scores_table(tmp_path: Path, page: Page) -> None:
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'readmodel.sqlite3'}")
    database.upgrade(engine)
    schema.upgrade(engine)
    store = AccountStore(engine)
    store.add_user(
        "lee@clinic-a.example",
        [Membership("clinic-a", Role.CLINICIAN)],
        datetime.now(UTC),
        password=PASSWORD,
    )
    write(engine, _story())
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path), AFTERGLOW_OPERATOR_TOKEN="t")
    app = create_web_app(settings, RecordingPublisher(), accounts=store, alert_lookup=FakeLookup())
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if _is_error(message) else None,
    )
    page.set_viewport_size({"width": 1100, "height": 900})
    with served(app) as url:
        page.goto(f"{url}/patients/pt-1")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.fill("#email", "lee@clinic-a.example")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{url}/patients/pt-1")
        figure = page.locator("#trajectory")
        expect(figure).to_have_attribute("data-points", re.compile(r"^\[\["))
        expect(page.locator("#chart canvas")).to_be_visible()
        plotted = json.loads(figure.get_attribute("data-points") or "[]")
        rows = page.locator("#scores tbody tr").evaluate_all(
            "rows => rows.map(r => [r.dataset.at, Number(r.dataset.total)])"
        )
        if os.environ.get("AFTERGLOW_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "patient.png"), full_page=True)
    engine.dispose()
    listed = [[datetime.fromisoformat(at).timestamp(), total] for at, total in rows]
    assert len(listed) == 8
    assert plotted == listed
    assert problems == []  # no script error, nothing the CSP refused


def _is_error(message: ConsoleMessage) -> bool:
    # The browser asks for /favicon.ico on its own; the dashboard has none.
    return message.type == "error" and not message.location["url"].endswith("/favicon.ico")
