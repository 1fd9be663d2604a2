"""The operations page and its JSON over real HTTP, on a fixed health summary: operators
and admins only, the verdict of each panel in words, the per-clinic panels kept to the
operator's clinics, the header's links by role."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from afterglow.operations.facts import (
    BrokerFacts,
    DeadLetterFacts,
    DeadLetterGroup,
    FunnelCounts,
    FunnelFacts,
    GroupFacts,
    MemberAssignment,
    OverdueAlerts,
    PartitionLag,
    PipelineFacts,
    SloFacts,
    TickFacts,
    TickPartition,
)
from afterglow.operations.model import HealthSummary
from afterglow.operations.pipeline_verdicts import deadletters_panel, pipeline_panel, ticks_panel
from afterglow.operations.readmodel_verdicts import funnel_panel, slo_panel
from afterglow.operations.thresholds import DEFAULT_THRESHOLDS as T
from tests.support.operations_app import (
    ADMIN,
    CLINICIAN,
    NOW,
    OPERATOR,
    Client,
    Published,
    log_in,
    run_operations,
    text_of,
)

_WORKER = GroupFacts(
    "afterglow",
    "worker",
    (PartitionLag("clinic.patients", 0, 90, 50, 40, NOW - timedelta(seconds=200)),),
    (),  # no live member
)
_PROJECTOR = GroupFacts("afterglow-projector", "projector", (), (MemberAssignment("p", 4),))
SUMMARY = HealthSummary(
    NOW,
    (
        pipeline_panel(
            PipelineFacts(BrokerFacts(True, "127.0.0.1:9092", 1), (_WORKER, _PROJECTOR)), T, NOW
        ),
        ticks_panel(TickFacts(1.0, (TickPartition(0, NOW),)), T, NOW),
        deadletters_panel(
            DeadLetterFacts(
                (DeadLetterGroup("clinic.patients", "bad value '…'", 3, 1, 3, NOW, NOW),)
            ),
            T,
        ),
        funnel_panel(
            FunnelFacts(
                (
                    FunnelCounts("clinic-a", "24h", planned=3, sent=3, delivered=3),
                    FunnelCounts("clinic-b", "24h", planned=9, sent=0),
                )
            ),
            T,
        ),
        slo_panel(SloFacts((OverdueAlerts("clinic-b", "P1", 2, 900.0),), (), 4, ()), T),
    ),
)


async def _get(client: Client, path: str) -> tuple[int, str]:
    async with client.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


def test_a_clinician_without_the_operator_role_is_refused(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, CLINICIAN)
        for path in ("/operations", "/operations/panels", "/operations/health.json"):
            status, _ = await _get(client, path)
            assert status == 403, path
        status, _ = await _get(client, "/operations/dead-letters")
        assert status == 403

    run_operations(tmp_path, scenario, SUMMARY)


def test_logged_out_the_json_leads_to_the_login(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        async with client.get("/operations/health.json", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=")

    run_operations(tmp_path, scenario, SUMMARY)


def test_each_panel_says_its_verdict_and_reason_in_words(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR)
        status, html = await _get(client, "/operations")
        assert status == 200
        text = " ".join(text_of(html).split())
        assert "Pipeline: RED" in text
        assert "worker group afterglow has no live member: nothing consumes" in text
        assert "Dead letters: GREEN" in text or "Dead letters: AMBER" in text
        assert 'hx-get="/operations/panels"' in html  # refreshes itself
        assert "<script>" not in html  # CSP: scripts from files only
        status, panels = await _get(client, "/operations/panels")
        assert status == 200
        assert "Pipeline: RED" in " ".join(text_of(panels).split())

    run_operations(tmp_path, scenario, SUMMARY)


def test_an_operator_sees_only_their_clinics_in_the_funnel_and_the_slos(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, OPERATOR)
        _, html = await _get(client, "/operations")
        text = " ".join(text_of(html).split())
        assert "clinic-b" not in text
        assert "SMS funnel: GREEN" in text  # clinic-b's red is not this operator's
        assert "Alert SLOs: GREEN" in text
        async with client.get("/operations/health.json") as response:
            assert response.status == 200
            body = await response.json()
        assert body["status"] == body["verdict"] == "red"
        assert "clinic-b" not in str(body)

    run_operations(tmp_path, scenario, SUMMARY)


def test_an_admin_sees_every_clinic(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, ADMIN)
        _, html = await _get(client, "/operations")
        text = " ".join(text_of(html).split())
        assert "SMS funnel: RED" in text
        assert "clinic-b: 2 open P1 alert(s) past their escalation time" in text

    run_operations(tmp_path, scenario, SUMMARY)


def test_the_header_links_each_role_to_its_pages(tmp_path: Path) -> None:
    async def scenario(client: Client, published: Published) -> None:
        await log_in(client, CLINICIAN)
        _, html = await _get(client, "/inbox")
        for href in ('href="/inbox"', 'href="/patients"', 'href="/clinics/clinic-a/outcomes"'):
            assert href in html
        assert 'href="/operations"' not in html
        await log_in(client, OPERATOR)
        _, html = await _get(client, "/operations")
        assert 'href="/operations"' in html
        assert 'href="/inbox"' not in html

    run_operations(tmp_path, scenario, SUMMARY)
