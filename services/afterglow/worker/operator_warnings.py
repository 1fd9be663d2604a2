"""Raising and clearing operator warnings from the worker's handlers (docs/operators.md,
"Operator warnings").

Each warning key has one owner: intake raises and clears both kinds; the notifier raises
`unknown_clinician` again when a page or digest finds no clinician record, under the very
same key (the compacted topic keeps one record per key, the latest). Both run on the
clinician's partition, so their records reach the topic in the order they were decided.
The log line carries the kind and the ids only, never a phone number, a name or a message
body.
"""

from __future__ import annotations

import logging

from afterglow.operator_warnings.records import WarningKind, warning_id, warning_record
from afterglow.printable import escape_controls
from afterglow.topics import OPERATOR_WARNINGS
from afterglow.worker.context import WorkerContext

log = logging.getLogger(__name__)


async def raise_warning(
    context: WorkerContext,
    kind: WarningKind,
    clinic_id: str,
    subject: str,
    *,
    at: str,
    source_topic: str,
) -> None:
    record = warning_record(kind, clinic_id, subject, at=at, source_topic=source_topic)
    await context.publish(OPERATOR_WARNINGS, record, record["warning_id"].encode())
    context.metrics.operator_warnings.labels(kind.value).inc()
    log.warning(
        "operator warning %s: clinic %s, %s (afterglow warnings lists it)",
        kind.value,
        escape_controls(clinic_id),
        escape_controls(subject),
    )


async def clear_warning(
    context: WorkerContext, kind: WarningKind, clinic_id: str, subject: str
) -> None:
    key = warning_id(kind, clinic_id, subject)
    await context.publish(OPERATOR_WARNINGS, None, key.encode())
    context.metrics.operator_warnings_cleared.labels(kind.value).inc()
