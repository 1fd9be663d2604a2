"""Open alerts past their escalation time on the web process's /metrics, by the clinic's
policy, as the alert SLO panel counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine

from afterglow.operations.funnel_facts import text
from afterglow.readmodel.tables import alerts
from afterglow.registry.clinics import load_clinics
from afterglow.web.slo_metrics import OverdueAlertsCollector
from tests.support.clinics import write_clinics

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


def alert(alert_id: str, priority: str, status: str, raised_min: float) -> dict[str, object]:
    raised = text(NOW - timedelta(minutes=raised_min))
    return {
        "alert_id": alert_id,
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "kind": "safety",
        "priority": priority,
        "status": status,
        "reason": "item 9 answered 1",
        "at": raised,
        "raised_at": raised,
        "escalations": 0,
        "version": "1",
    }


def scrape(engine: Engine, tmp_path: Path) -> dict[tuple[str, tuple[str, ...]], float]:
    clinics = load_clinics(
        write_clinics(
            tmp_path / "clinics.toml",
            "[clinics.clinic-a]\n"
            "escalation = { p1_backup_minutes = 5, p1_director_minutes = 10 }\n",
        )
    )
    registry = CollectorRegistry()
    registry.register(OverdueAlertsCollector(engine, clinics, Clock()))
    body = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_open_alerts_past_their_escalation_step_are_counted(
    sqlite_readmodel: Engine, tmp_path: Path
) -> None:
    with sqlite_readmodel.begin() as db:
        db.execute(
            alerts.insert(),
            [
                alert("a-1", "P1", "open", raised_min=8),  # backup due 3 min ago
                alert("a-2", "P1", "open", raised_min=20),  # backup due 15 min ago
                alert("a-3", "P1", "open", raised_min=4),  # not yet due
                alert("a-4", "P1", "acknowledged", raised_min=60),
            ],
        )

    samples = scrape(sqlite_readmodel, tmp_path)

    assert samples[("afterglow_alerts_overdue", ("clinic-a", "P1"))] == 2
    assert samples[("afterglow_alerts_overdue_seconds", ("clinic-a", "P1"))] == 15 * 60


def test_an_unreadable_read_model_gives_no_sample_rather_than_zero(tmp_path: Path) -> None:
    samples = scrape(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"), tmp_path)
    assert not [name for name, _ in samples if name.startswith("afterglow_alerts_overdue")]
