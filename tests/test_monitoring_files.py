"""The Grafana dashboard and the Prometheus alert rules in deploy/ query only metrics that
the worker, the web process and the projector export (docs/operators.md, "Monitor")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from afterglow.clock import SystemClock
from afterglow.config import Settings
from afterglow.readmodel.projector_metrics import ProjectorMetrics
from afterglow.registry.clinics import load_clinics
from afterglow.resources import project_root
from afterglow.web.app import REGISTRY_KEY, create_web_app
from afterglow.web.slo_metrics import OverdueAlertsCollector
from afterglow.worker.metrics import WorkerMetrics

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}
_METRIC = re.compile(r"\bafterglow_[a-z0-9_]+")


def exported(tmp_path: Path) -> set[str]:
    """Every sample name the three processes can expose (the web process's alert SLO gauges
    only with the dashboard's database: added here on its own)."""
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path))
    web = create_web_app(settings)
    slos = CollectorRegistry()
    engine = create_engine(f"sqlite:///{tmp_path / 'readmodel.db'}")
    slos.register(
        OverdueAlertsCollector(engine, load_clinics(settings.clinics_file), SystemClock())
    )
    registries: list[CollectorRegistry] = [
        WorkerMetrics().registry,
        ProjectorMetrics().registry,
        web[REGISTRY_KEY],
        slos,
    ]
    return {
        family.name + suffix
        for registry in registries
        for family in registry.collect()
        for suffix in _SUFFIXES[family.type]
    }


def grafana_queries() -> list[str]:
    dashboard = json.loads((project_root() / "deploy/grafana/afterglow.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_metric_the_dashboard_and_the_alert_rules_use_is_exported(tmp_path: Path) -> None:
    rules = (project_root() / "deploy/prometheus/alerts.yml").read_text()
    used = {
        "grafana": {name for query in grafana_queries() for name in _METRIC.findall(query)},
        "alerts": set(_METRIC.findall(rules)),
    }
    names = exported(tmp_path)
    assert "afterglow_tick_last_handled_timestamp_seconds" in used["alerts"]
    assert "afterglow_projector_lag_records" in used["grafana"]
    assert "afterglow_alerts_overdue_seconds" in used["alerts"]
    for where, metrics in used.items():
        assert metrics - names == set(), f"{where} uses metrics nobody exports"


def test_every_dashboard_panel_has_a_query() -> None:
    assert all(query.strip() for query in grafana_queries())
    assert len(grafana_queries()) >= 10
