"""`afterglow warnings`: the current operator warnings, read from Kafka (docs/operators.md,
"Operator warnings")."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from afterglow.config import Settings, get_settings
from afterglow.operator_warnings.reader import WarningsReadError, clear_warning, read_warnings
from afterglow.printable import escape_controls
from afterglow.topics import OPERATOR_WARNINGS


def warnings(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line instead of text.")
    ] = False,
    clear: Annotated[
        str | None,
        typer.Option(
            "--clear",
            metavar="WARNING_ID",
            help="Dismiss one current warning (its warning_id, as --json prints it).",
        ),
    ] = None,
) -> None:
    """Print the current operator warnings: clinicians named by registrations without a
    record, infusions held for patients not registered yet. Exit status 2 when Kafka or the
    topic cannot be read; with --clear, 1 when no such warning is current."""
    settings = get_settings()
    try:
        current = read_warnings(settings)
    except WarningsReadError as exc:
        typer.echo(f"afterglow warnings: {exc}", err=True)
        raise typer.Exit(2) from None
    if current is None:
        topic = escape_controls(settings.topic(OPERATOR_WARNINGS))
        typer.echo(f"afterglow warnings: topic {topic} not found: run `afterglow topics`", err=True)
        raise typer.Exit(2)
    if clear is not None:
        _clear(settings, current, clear)
        return
    if as_json:
        for warning in current:
            typer.echo(json.dumps(warning, ensure_ascii=True, sort_keys=True))
    elif not current:
        typer.echo("no operator warnings")
    else:
        typer.echo(f"{len(current)} operator warning(s)")
        for warning in current:
            typer.echo(_line(warning))


def _clear(settings: Settings, current: list[dict[str, Any]], key: str) -> None:
    """A tombstone for a listed warning. One the worker still finds is raised again by the
    next record that finds it (docs/operators.md, "Operator warnings")."""
    shown = escape_controls(key)
    if key not in {warning["warning_id"] for warning in current}:
        typer.echo(f"afterglow warnings: no current warning {shown}", err=True)
        raise typer.Exit(1)
    try:
        clear_warning(settings, key)
    except WarningsReadError as exc:
        typer.echo(f"afterglow warnings: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"cleared {shown}")


def _line(warning: dict[str, Any]) -> str:
    # Ids come from clinics and may hold control characters: shown escaped, one line each.
    fields = (warning["at"], warning["kind"], warning["clinic_id"], warning["subject"])
    shown = "  ".join(escape_controls(str(field)) for field in fields)
    return f"{shown}  {escape_controls(warning['message'])}"
