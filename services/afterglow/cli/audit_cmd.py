"""`afterglow audit PATIENT_ID`: one patient's whole timeline, read from Kafka."""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from afterglow.audit.reader import AuditReadError, read_patient_records
from afterglow.audit.timeline import (
    build_timeline,
    registered_timezone,
    render_json,
    render_text,
)
from afterglow.config import get_settings
from afterglow.printable import escape_controls


def audit(
    patient_id: Annotated[str, typer.Argument(help="The patient's id as the clinic sends it.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line instead of text.")
    ] = False,
) -> None:
    """Print a patient's timeline: registration, infusions, check-ins, answers and scores,
    consent, alerts, and who acted on them; oldest first, in the patient's time zone."""
    settings = get_settings()
    # The id is echoed back: shown escaped like every field of the timeline (docs/operators.md).
    shown_id = escape_controls(patient_id)
    try:
        result = read_patient_records(settings, patient_id)
    except AuditReadError as exc:
        typer.echo(f"afterglow audit: {exc}", err=True)
        raise typer.Exit(2) from None
    for name in result.missing_topics:
        topic = escape_controls(settings.topic(name))
        typer.echo(f"afterglow audit: topic {topic} not found, skipped", err=True)
    entries = build_timeline(result.records)
    if not entries:
        typer.echo(f"afterglow audit: nothing found for patient {shown_id}", err=True)
        raise typer.Exit(1)
    zone_name = registered_timezone(result.records)
    zone = _zone(zone_name)
    if as_json:
        typer.echo(render_json(entries, zone))
        return
    shown = zone_name if zone is not None else "this machine's time zone"
    typer.echo(f"patient {shown_id}: {len(entries)} entries, times in {shown}")
    typer.echo(render_text(entries, zone))


def _zone(name: str | None) -> tzinfo | None:
    """The patient's registered zone; None (this machine's zone) if unknown or invalid."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
