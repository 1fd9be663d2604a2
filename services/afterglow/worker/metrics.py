"""Prometheus metrics of the worker. Labels never carry patient data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.records = Counter(
            "afterglow_records_total",
            "Input records handled, by topic and outcome (accepted, duplicate, deadletter).",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.due_entries = Counter(
            "afterglow_due_entries_total",
            "Due-index entries handled by ticks (starts, reminders, expiries, stale ones).",
            registry=self.registry,
        )
        self.signals = Counter(
            "afterglow_checkin_signals_total",
            "Check-in signals published, by type.",
            ["type"],
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            "afterglow_tick_seconds",
            "Time to handle one tick on one partition.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
            registry=self.registry,
        )
        self.sms = Counter(
            "afterglow_sms_total",
            "Outbound texts by category and outcome (sent, duplicate, opted_out, bad_number, "
            "temporary, rejected, unknown).",
            ["category", "outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "afterglow_sms_delivery_status_total",
            "Texts reaching a delivery status the provider reported (queued, sent, delivered, "
            "undelivered, failed, read; other: a status Twilio does not document).",
            ["status"],
            registry=self.registry,
        )
        self.clinical_events = Counter(
            "afterglow_clinical_events_total",
            "Clinical events from conversations, by type (no patient data in labels).",
            ["type"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "afterglow_alerts_total",
            "Rule decisions by kind and action (raised, attached, suppressed, resolved).",
            ["kind", "action"],
            registry=self.registry,
        )
        self.alert_actions = Counter(
            "afterglow_alert_actions_total",
            "Alert state changes by type (acknowledged, resolved, escalated, paged, digest).",
            ["type"],
            registry=self.registry,
        )
        self.late_events = Counter(
            "afterglow_late_clinical_events_total",
            "Clinical events older than the patient's latest one, evaluated as of that time.",
            registry=self.registry,
        )
        self.alert_latency = Histogram(
            "afterglow_alert_latency_seconds",
            "From the triggering event's time to the alert's publication (real time only).",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60),
            registry=self.registry,
        )
        self.deadletters = Counter(
            "afterglow_deadletters_total",
            "Records sent to deadletter, by source topic and result (written, or failed: the "
            "broker refused the dead letter and the record is only in its source topic).",
            ["topic", "result"],
            registry=self.registry,
        )
        self.last_tick = Gauge(
            "afterglow_tick_last_handled_timestamp_seconds",
            "Unix time this worker last handled a tick on a partition of the ticks topic; "
            "time() minus this, growing, means its check-ins and escalations have stopped.",
            ["partition"],
            registry=self.registry,
        )
        self.last_rebalance = Gauge(
            "afterglow_worker_last_rebalance_timestamp_seconds",
            "Unix time partitions were last assigned to this worker (the end of a rebalance "
            "of its group); the operations page shows it next to each member's partitions.",
            registry=self.registry,
        )
        self.timer_errors = Counter(
            "afterglow_tick_timer_errors_total",
            "Failures of the leader's tick timer (it retries at the next interval).",
            registry=self.registry,
        )
        self.operator_warnings = Counter(
            "afterglow_operator_warnings_total",
            "Operator warnings raised, by kind (raised again by every record that still "
            "finds the problem); `afterglow warnings` lists the current ones.",
            ["kind"],
            registry=self.registry,
        )
        self.operator_warnings_cleared = Counter(
            "afterglow_operator_warnings_cleared_total",
            "Operator warnings cleared (a tombstone published), by kind.",
            ["kind"],
            registry=self.registry,
        )
