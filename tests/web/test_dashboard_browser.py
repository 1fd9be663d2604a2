"""The dashboard's acceptance in a real browser (Debian's Chromium through Playwright)
against the real worker, web and projector processes on the real broker: an item-9 reply
from a simulated phone reaches the inbox as a P1 without a reload, and the logged-in
clinician acknowledges and resolves it; clinics do not see each other's patients; logged
out, every patient URL leads to the login; a change without the CSRF token is refused; no
serious accessibility violation. The tests share one running stack (conftest `dashboard`).
"""

from __future__ import annotations

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.support.kafka_io import wait_for
from tests.support.stack import (
    CHECKIN_PATIENT,
    CLINICIAN_A,
    CLINICIAN_B,
    CRISIS_PATIENT,
    PASSWORD,
    Dashboard,
)

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

SERIOUS = {"serious", "critical"}


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}/inbox")


def _actions_on(dashboard: Dashboard, alert_id: str) -> list[tuple[object, object]]:
    """Acknowledgments and resolutions of the alert on `afterglow.alert-actions` (the
    notifier's page confirmations travel there too)."""
    actions = dashboard.stack.worker.records("afterglow.alert-actions")
    return [
        (a["type"], a["actor"])
        for a in actions
        if a["alert_id"] == alert_id and a["type"] in ("acknowledge", "resolve")
    ]


def test_an_item_9_reply_reaches_the_inbox_and_the_user_acknowledges_and_resolves_it(
    dashboard: Dashboard, page: Page
) -> None:
    stack, phone = dashboard.stack, CHECKIN_PATIENT["phone"]  # the day-7 check-in is open
    try:
        _log_in(page, stack.url, CLINICIAN_A)
        sent = time.monotonic()
        stack.text_from(phone, "0 0 0 0 0 0 0 0 2")  # all nine at once; item 9: 2
        row = page.locator('tr[data-priority="P1"]', has_text="Ana Example")
        expect(row).to_be_visible(timeout=30_000)  # no reload: the inbox refreshes itself
        latency = time.monotonic() - sent
        expect(row).to_have_class("new")
        expect(row).to_contain_text("in 14 min")  # the backup is paged 15 min after
        alert_id = row.get_attribute("data-alert-id")
        assert alert_id
        row = page.locator(f'tr[data-alert-id="{alert_id}"]')

        row.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_role("status").first).to_have_text("Alert acknowledged.")
        expect(row).to_contain_text(f"acknowledged by {CLINICIAN_A}", timeout=30_000)

        row.locator(f'a[href="/inbox/alerts/{alert_id}"]').click()
        expect(page).to_have_url(f"{stack.url}/inbox/alerts/{alert_id}")
        expect(page.locator('a[href="/patients/pt-a1"]')).to_have_text("Ana Example")
        resolve = page.get_by_role("button", name="Resolve")
        resolve.click()  # no outcome chosen: the browser asks for one, nothing is sent
        assert page.locator("#outcome-alert").evaluate("e => e.validity.valueMissing")
        expect(page).to_have_url(f"{stack.url}/inbox/alerts/{alert_id}")
        page.select_option("#outcome-alert", "reached_plan_made")
        resolve.click()
        expect(page.get_by_role("status").first).to_have_text("Alert resolved.")

        def resolved() -> dict[str, object] | None:
            state = stack.latest_alert(alert_id)
            return state if state and state["status"] == "resolved" else None

        state = wait_for(resolved, 30, "the resolution on the alerts topic")
        page.goto(f"{stack.url}/inbox")
        expect(page.locator(f'tr[data-alert-id="{alert_id}"]')).to_have_count(0, timeout=30_000)
        page.goto(f"{stack.url}/inbox/alerts/{alert_id}")
        expect(page.locator("#history")).to_contain_text(CLINICIAN_A, timeout=30_000)
        timeline = stack.audit("pt-a1")
    except AssertionError:
        print(stack.logs())
        raise
    print(f"item-9 reply to P1 visible in the inbox: {latency:.1f} s")
    assert (state["priority"], state["kind"]) == ("P1", "safety")
    assert state["acknowledged_by"] == CLINICIAN_A
    assert state["resolved_by"] == CLINICIAN_A
    assert state["outcome"] == "reached_plan_made"
    by_user = [e["summary"] for e in timeline if e["actor"] == CLINICIAN_A]
    assert any("acknowledged" in summary for summary in by_user), by_user
    assert any("resolved" in summary for summary in by_user), by_user
    assert _actions_on(dashboard, alert_id) == [
        ("acknowledge", CLINICIAN_A),
        ("resolve", CLINICIAN_A),
    ]


def test_a_clinician_of_clinic_b_finds_nothing_of_clinic_a(
    dashboard: Dashboard, page: Page
) -> None:
    url, alert_id = dashboard.stack.url, dashboard.crisis_alert_id
    _log_in(page, url, CLINICIAN_B)
    expect(page.locator(f'tr[data-alert-id="{alert_id}"]')).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    for path in (
        "/patients/pt-a2",
        "/patients/pt-a1",
        f"/inbox/alerts/{alert_id}",
        "/clinics/clinic-a/outcomes",
    ):
        response = page.goto(f"{url}{path}")
        assert response is not None
        assert response.status == 404, path
        assert "Ben Example" not in page.content()
    for path in ("/patients", "/patients?clinic=clinic-a", "/patients?q=Ben"):
        page.goto(f"{url}{path}")
        assert "Ben Example" not in page.content(), path
    for action, form in [
        ("acknowledge", {"csrf_token": token}),
        ("resolve", {"csrf_token": token, "outcome": "reached_plan_made"}),
    ]:
        response = page.request.post(
            f"{url}/inbox/alerts/{alert_id}/{action}", form=form, max_redirects=0
        )
        assert response.status == 404, action
    assert _actions_on(dashboard, alert_id) == []


def test_logged_out_every_patient_url_leads_to_the_login(dashboard: Dashboard, page: Page) -> None:
    url = dashboard.stack.url
    for path in (
        "/inbox",
        "/inbox/rows",
        "/patients/pt-a2",
        "/patients/no-such-patient",
        "/patients",
        "/patients?q=Ben",
        "/clinics/clinic-a/outcomes",
        f"/inbox/alerts/{dashboard.crisis_alert_id}",
    ):
        page.goto(f"{url}{path}")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        assert "Ben Example" not in page.content()


def test_an_acknowledgment_without_the_csrf_token_is_refused_and_nothing_is_published(
    dashboard: Dashboard, page: Page
) -> None:
    url, alert_id = dashboard.stack.url, dashboard.crisis_alert_id
    _log_in(page, url, CLINICIAN_A)
    for form in ({}, {"csrf_token": "not-the-pages-token"}):
        response = page.request.post(
            f"{url}/inbox/alerts/{alert_id}/acknowledge", form=form, max_redirects=0
        )
        assert response.status == 403
    assert _actions_on(dashboard, alert_id) == []
    state = dashboard.stack.latest_alert(alert_id)
    assert state is not None
    assert state["status"] == "open"


def test_no_serious_accessibility_violations(dashboard: Dashboard, page: Page) -> None:
    url, axe = dashboard.stack.url, Axe()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        violations = axe.run(page).response["violations"]
        print(f"axe on the {name}: {[(v['id'], v['impact']) for v in violations]}")
        found[name] = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in violations
            if v["impact"] in SERIOUS
        ]

    page.goto(f"{url}/login")
    check("login")
    _log_in(page, url, CLINICIAN_A)
    expect(page.locator(f'tr[data-alert-id="{dashboard.crisis_alert_id}"]')).to_be_visible()
    check("inbox")
    page.goto(f"{url}/patients/{CRISIS_PATIENT['patient_id']}")
    check("patient page")
    page.goto(f"{url}/inbox/alerts/{dashboard.crisis_alert_id}")
    check("alert page")
    page.goto(f"{url}/patients")
    expect(page.locator("main")).to_contain_text("Ben Example")
    check("patient list")
    page.goto(f"{url}/clinics/clinic-a/outcomes")
    check("outcomes page")
    assert found == {
        "login": [],
        "inbox": [],
        "patient page": [],
        "alert page": [],
        "patient list": [],
        "outcomes page": [],
    }
