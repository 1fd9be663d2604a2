"""The inbox in a real browser (Debian's Chromium through Playwright) against the real
`afterglow web` process: log in, see the clinic's alerts, and a new P1 appears without a
reload. With AFTERGLOW_SCREENSHOTS=1 it saves docs/screenshots/inbox.png."""

from __future__ import annotations

import os
import re
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.broker.topics import ensure_topics
from afterglow.config import Settings
from afterglow.readmodel import database
from afterglow.topics import ALERTS, PATIENTS
from tests.support.kafka_io import wait_for
from tests.support.processes import AfterglowProcess, free_port
from tests.support.records import patient
from tests.web.test_inbox import _alert, _project

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

PASSWORD = "violet kettle under the stairs"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


def test_a_clinician_logs_in_and_a_new_p1_appears_without_a_reload(
    kafka_settings: Settings, tmp_path: Path, page: Page
) -> None:
    assert ensure_topics(kafka_settings).ok
    engine = database.create_readmodel_engine(f"sqlite:///{tmp_path / 'readmodel.sqlite3'}")
    database.upgrade(engine)
    schema.upgrade(engine)
    now = datetime.now(UTC)
    AccountStore(engine).add_user(
        "lee@clinic-a.example", [Membership("clinic-a", Role.CLINICIAN)], now, password=PASSWORD
    )
    _project(engine, PATIENTS, [patient("pt-1", display_name="Ana Example")])
    _project(engine, ALERTS, [_alert("al-p2", "pt-1", "P2", 30, now)])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.kafka_bootstrap_servers,
        "AFTERGLOW_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "AFTERGLOW_DATA_DIR": str(tmp_path),
        "AFTERGLOW_DATABASE_URL": "",
        "AFTERGLOW_WEB_PORT": str(port),
        "AFTERGLOW_OPERATOR_TOKEN": "browser-test-token",
    }
    with AfterglowProcess(["web"], env, tmp_path / "web.log") as web:
        try:
            wait_for(lambda: _serving(url), 60, "the web process")
            page.goto(f"{url}/inbox")
            expect(page).to_have_url(re.compile(r"/login\?next="))
            page.fill("#email", "lee@clinic-a.example")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{url}/inbox")
            expect(page.locator('tr[data-alert-id="al-p2"]')).to_contain_text("Ana Example")

            _project(engine, ALERTS, [_alert("al-p1", "pt-1", "P1", 0, datetime.now(UTC))], first=1)
            arrived = time.monotonic()
            fresh = page.locator('tr[data-alert-id="al-p1"]')
            expect(fresh).to_be_visible(timeout=4_000)
            seen_after = time.monotonic() - arrived
            expect(fresh).to_have_class("new")
            expect(fresh).to_contain_text("in 14 min")  # the P1's backup page at 15 min
            ids = page.locator("tr[data-alert-id]").evaluate_all(
                "rows => rows.map(r => r.dataset.alertId)"
            )
            if os.environ.get("AFTERGLOW_SCREENSHOTS") == "1":
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)
        except (AssertionError, Exception):
            print(web.log_tail())
            raise
    engine.dispose()
    print(f"new P1 visible {seen_after:.2f} s after it reached the read model")
    assert ids == ["al-p1", "al-p2"]
    assert seen_after < 2  # a 1 s poll, and the time to render
