"""The operations page in a real browser (Debian's Chromium through Playwright) against the
real worker, projector and web processes on the real broker: a stopped worker turns the
pipeline panel red with growing lag and a restarted one green again, without a reload,
with the rebalance's time and the records written; a P1 left open past its escalation time
turns the alert SLO panel red; a
malformed infusion shows up redacted among the dead letters and, corrected and
re-published, counts; an operator without a clinic role never sees a phone number, a name
or a text. The tests share one stack (`operations_stack`), in this order. With
AFTERGLOW_SCREENSHOTS=1 the pipeline test saves docs/screenshots/operations.png."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from afterglow.accounts.roles import Membership, Role
from afterglow.readmodel.tables import infusions
from afterglow.topics import ALERTS, INFUSIONS_COMPLETED, PATIENTS
from tests.support.kafka_io import wait_for
from tests.support.records import patient
from tests.support.stack import PASSWORD, Stack

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
OPERATOR = "ops@clinic-a.example"  # operator of clinic-a, no clinic role
DESK = "desk@clinic-a.example"  # operator and clinician of clinic-a
PHONE, NAME, TEXT = "+15555550141", "Cora Example", "the kettle sings at noon"
PATIENT = patient("pt-c1", phone=PHONE, display_name=NAME, clinician_id="clin-a1")


@pytest.fixture(scope="module")
def operations_stack(stack: Stack) -> Stack:
    """The stack running with the two operators, a patient with a known phone and name who
    texted once, and a malformed registration of theirs (a dead letter quoting both)."""
    now = datetime.now(UTC)
    stack.add_user(OPERATOR, [Membership("clinic-a", Role.OPERATOR)], now)
    stack.add_user(
        DESK, [Membership("clinic-a", Role.OPERATOR), Membership("clinic-a", Role.CLINICIAN)], now
    )
    stack.start()
    try:
        stack.worker.send_ticks([now.isoformat()])
        stack.produce(PATIENTS, PATIENT, {**PATIENT, "patient_id": "pt-c2", "timezone": 7})
        wait_for(lambda: stack.projected_patient("pt-c1"), 60, "the patient in the read model")
        wait_for(lambda: PHONE in stack.worker.table("phones"), 60, "the patient's phone claimed")
        stack.text_from(PHONE, TEXT)
    except AssertionError:
        print(stack.logs())
        raise
    return stack


def _log_in(page: Page, url: str, email: str, path: str = "/operations") -> None:
    page.goto(f"{url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}{path}")


def _worker_lag(page: Page) -> int:
    return int(page.locator('#panel-pipeline tr[data-group="worker"] td.lag').inner_text())


def test_an_operator_without_a_clinic_role_sees_no_phone_name_or_text(
    operations_stack: Stack, page: Page
) -> None:
    url = operations_stack.url
    _log_in(page, url, OPERATOR)
    expect(page.locator("#panel-pipeline")).to_contain_text("Pipeline:")
    page.goto(f"{url}/operations/dead-letters")
    row = page.locator("tr[data-letter-id]", has_text="clinic.patients").first
    expect(row).to_be_visible(timeout=30_000)
    for path in ("/operations", "/operations/dead-letters", "/operations/health.json"):
        page.goto(f"{url}{path}")
        text = page.locator("body").inner_text()
        for secret in (PHONE, PHONE[2:], NAME, TEXT):
            assert secret not in text, (path, secret)
    page.goto(f"{url}/operations/dead-letters")
    expect(page.locator("tr[data-letter-id]", has_text="clinic.patients").first).to_contain_text(
        '"phone":"•••"'
    )
    page.goto(f"{url}/inbox")
    expect(page.locator("nav.main")).not_to_contain_text("Inbox")


def test_the_operations_pages_have_no_serious_accessibility_violation(
    operations_stack: Stack, page: Page
) -> None:
    url, axe = operations_stack.url, Axe()
    _log_in(page, url, DESK)
    found = {}
    for path in ("/operations", "/operations/dead-letters"):
        page.goto(f"{url}{path}")
        violations = axe.run(page).response["violations"]
        found[path] = [
            f"{v['id']} ({v['impact']})"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
    assert found == {"/operations": [], "/operations/dead-letters": []}


def test_a_malformed_infusion_is_dead_lettered_redacted_and_counts_once_corrected(
    operations_stack: Stack, page: Page
) -> None:
    stack, url = operations_stack, operations_stack.url
    completed = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    broken = {"event_id": "inf-c1", "patient_id": "pt-c1", "clinic_id": "clinic-a"}
    stack.produce(INFUSIONS_COMPLETED, {**broken, "completed_at": "yesterday at noon"})
    _log_in(page, url, DESK, "/operations/dead-letters")
    row = page.locator("tr[data-letter-id]", has_text=INFUSIONS_COMPLETED).first
    for _ in range(30):  # the list is read when the page loads
        if row.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(row).to_contain_text("completed_at")  # the reason
    expect(row).to_contain_text('"completed_at":"•••"')  # the payload, redacted
    expect(row).not_to_contain_text("yesterday")
    row.locator("a").first.click()
    page.fill("#value", json.dumps({**broken, "completed_at": completed}))
    page.get_by_role("button", name="Re-publish").click()
    expect(page.get_by_role("status")).to_have_text("Dead letter republished.")

    def counted() -> bool:
        with stack.engine.connect() as db:
            query = select(infusions.c.patient_id).where(infusions.c.event_id == "inf-c1")
            return db.execute(query).scalar() == "pt-c1"

    wait_for(counted, 60, "the corrected infusion in the read model")
    page.reload()
    expect(page.locator("tr[data-letter-id]", has_text=INFUSIONS_COMPLETED).first).to_contain_text(
        f"republished by {DESK}"
    )


def test_a_stopped_worker_turns_the_pipeline_red_with_growing_lag_and_back_to_green(
    operations_stack: Stack, page: Page
) -> None:
    stack, url = operations_stack, operations_stack.url
    panel = page.locator("#panel-pipeline")
    _log_in(page, url, OPERATOR)
    try:
        expect(panel).to_have_attribute("data-verdict", "green", timeout=60_000)
        stack.stop_process("worker")
        stack.produce(PATIENTS, *[{**PATIENT, "baseline_phq9": n} for n in range(5)])
        expect(panel).to_have_attribute("data-verdict", "red", timeout=30_000)  # no reload
        expect(panel.locator("h2")).to_contain_text("Pipeline: RED")
        expect(panel).to_contain_text("has no live member")
        expect(panel.locator('tr[data-group="worker"] td.lag')).not_to_have_text("0")
        before = _worker_lag(page)
        stack.produce(PATIENTS, *[{**PATIENT, "baseline_phq9": n} for n in range(5, 10)])
        expect(panel.locator('tr[data-group="worker"] td.lag')).not_to_have_text(
            str(before), timeout=30_000
        )
        assert _worker_lag(page) > before
        if os.environ.get("AFTERGLOW_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "operations.png"), full_page=True)
        stack.start_process("worker")
        expect(panel).to_have_attribute("data-verdict", "green", timeout=120_000)
        expect(panel.locator("h2")).to_contain_text("Pipeline: GREEN")
        # The restart was a rebalance: its time and the worker's partitions are shown, and
        # the ten registrations just written count among the inputs of the last 5 minutes.
        members = panel.locator('table[data-members="worker"]')
        # (the worker's web server answers once its tables are recovered: a refresh or two)
        expect(members.locator("caption")).to_contain_text(
            re.compile(r"last rebalance: \d{4}-"), timeout=30_000
        )
        expect(members.locator("tbody td").nth(2)).to_contain_text("clinic.patients[")
        patients = panel.locator(f'#rates tr[data-topic="{PATIENTS}"]')
        assert int(patients.locator("td.last-5m").inner_text()) >= 10
        assert int(patients.locator("td.last-24h").inner_text()) >= 10
    except AssertionError:
        print(stack.logs())
        raise


def test_a_p1_left_unacknowledged_past_its_escalation_time_turns_the_slo_panel_red(
    operations_stack: Stack, page: Page
) -> None:
    stack, url = operations_stack, operations_stack.url
    raised = (datetime.now(UTC) - timedelta(minutes=40)).isoformat()
    panel = page.locator("#panel-alert_slos")
    _log_in(page, url, OPERATOR)
    expect(panel).to_have_attribute("data-verdict", "green", timeout=30_000)
    # Raised 40 min ago and never escalated: the first P1 step (15 min) is 25 min past.
    stack.produce(
        ALERTS,
        {
            "alert_id": "al-c1",
            "patient_id": "pt-c2",
            "clinic_id": "clinic-a",
            "kind": "safety",
            "priority": "P1",
            "at": raised,
            "raised_at": raised,
            "changed_at": raised,
            "reason": "synthetic overdue alert",
            "status": "open",
            "clinician_id": "clin-a1",
            "escalations": 0,
        },
    )
    expect(panel).to_have_attribute("data-verdict", "red", timeout=60_000)  # no reload
    expect(panel.locator(".reasons")).to_contain_text(
        re.compile(r"clinic-a: 1 open P1 alert\(s\) past their escalation time \(up to 2\d min\)")
    )
    overdue = panel.locator("table").first.locator("tbody tr").first
    expect(overdue).to_contain_text("clinic-a")
    expect(overdue).to_contain_text("P1")
