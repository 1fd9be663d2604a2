"""Open alerts past their escalation time as Prometheus gauges on the web process's
/metrics, counted at each scrape from the read model with the clinics' escalation policies,
as the operations page's alert SLO panel counts them (docs/operators.md, "Monitor")."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from afterglow.clock import Clock
from afterglow.operations.slo_facts import overdue_alerts
from afterglow.registry.clinics import ClinicDirectory


class OverdueAlertsCollector(Collector):
    def __init__(self, engine: Engine, clinics: ClinicDirectory, clock: Clock) -> None:
        self._engine, self._clinics, self._clock = engine, clinics, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        count = GaugeMetricFamily(
            "afterglow_alerts_overdue",
            "Open alerts whose next escalation step is past, by clinic and priority.",
            labels=["clinic", "priority"],
        )
        worst = GaugeMetricFamily(
            "afterglow_alerts_overdue_seconds",
            "How far past its escalation step the most overdue open alert is.",
            labels=["clinic", "priority"],
        )
        try:
            with self._engine.connect() as db:
                late = overdue_alerts(db, self._clinics, self._clock.now())
        except SQLAlchemyError:
            # No sample rather than a zero that would read as "nothing overdue"; the
            # projector's own metrics say whether the read model is there.
            late = ()
        for group in late:
            count.add_metric([group.clinic_id, group.priority], group.count)
            worst.add_metric([group.clinic_id, group.priority], group.worst_overdue_s)
        yield count
        yield worst
