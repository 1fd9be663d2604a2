"""`afterglow schedule PATIENT_ID`: a patient's check-in plan, from the running worker."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from afterglow.config import get_settings
from afterglow.security.operator_token import read_operator_token


def schedule(
    patient_id: Annotated[str, typer.Argument(help="The patient's id as the clinic sends it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw plan as JSON.")] = False,
) -> None:
    """Print a patient's check-ins: past, pending and cancelled, in the patient's local time."""
    settings = get_settings()
    token = read_operator_token(settings)
    if token is None:
        typer.echo("no operator token: set AFTERGLOW_OPERATOR_TOKEN or start the worker", err=True)
        raise typer.Exit(1)
    quoted = urllib.parse.quote(patient_id, safe="")
    url = f"{settings.worker_url}/api/schedule/{quoted}/"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        message = "unknown patient" if error.code == 404 else f"worker answered {error.code}"
        typer.echo(f"afterglow schedule: {message}", err=True)
        raise typer.Exit(1) from None
    except urllib.error.URLError as error:
        typer.echo(f"afterglow schedule: worker not reachable at {url} ({error.reason})", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(render(data))


def render(data: dict[str, Any]) -> str:
    zone_name = data.get("timezone")
    zone = ZoneInfo(zone_name) if zone_name else None
    lines = [
        f"patient {data['patient_id']}  time zone {zone_name or 'unknown (not registered)'}  "
        f"SMS consent {'yes' if data.get('sms_consent') else 'no'}"
    ]
    plan = data.get("schedule") or {}
    if plan.get("opted_out"):
        lines.append("opted out of text messages")
    for infusion in data.get("infusions", []):
        lines.append(f"infusion {infusion['event_id']}  {_local(infusion['completed_at'], zone)}")
    occurrences = plan.get("occurrences", [])
    if not occurrences:
        lines.append("no check-ins planned")
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{'check-in':<28} {'planned (local)':<22} {'status':<11} detail")
    for occurrence in occurrences:
        detail = occurrence.get("reason") or ""
        if occurrence.get("dispatched_at"):
            detail = f"sent {_local(occurrence['dispatched_at'], zone)}" + (
                f"; {detail}" if detail else ""
            )
        lines.append(
            f"{occurrence['occurrence_id']:<28} {_local(occurrence['send_at'], zone):<22} "
            f"{occurrence['status']:<11} {detail}"
        )
    return "\n".join(lines)


def _local(text: str, zone: ZoneInfo | None) -> str:
    at = datetime.fromisoformat(text)
    if zone is not None:
        at = at.astimezone(zone)
    return at.strftime("%Y-%m-%d %H:%M %Z")
