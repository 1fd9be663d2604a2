"""What only the worker knows about itself, read from its /metrics: when its group last
gave out partitions (docs/operators.md, "Health summary")."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from afterglow.config import Settings

REBALANCE_GAUGE = "afterglow_worker_last_rebalance_timestamp_seconds"


def read_last_rebalance(settings: Settings, timeout_s: float) -> datetime | None:
    """None when the worker does not answer or was never assigned partitions."""
    try:
        with urllib.request.urlopen(f"{settings.worker_url}/metrics", timeout=timeout_s) as r:
            body = r.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return last_rebalance_in(body)


def last_rebalance_in(metrics_text: str) -> datetime | None:
    """The gauge's value from a /metrics body; 0 (never set) means never assigned."""
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == REBALANCE_GAUGE and sample.value > 0:
                return datetime.fromtimestamp(sample.value, UTC)
    return None
