"""`afterglow status`: the operators' health summary in the terminal, and a health check
(docs/operators.md, "Health summary (`afterglow status`)")."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from afterglow.clock import SystemClock
from afterglow.config import get_settings
from afterglow.operations.model import Verdict
from afterglow.operations.render import render_text
from afterglow.operations.summary import collect_health
from afterglow.readmodel.database import create_readmodel_engine
from afterglow.registry.clinics import ClinicSettingsError, load_clinics

_COLOURS = {"GREEN": typer.colors.GREEN, "AMBER": typer.colors.YELLOW, "RED": typer.colors.RED}


def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="The summary as one JSON object instead of text.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=1.0, max=120.0, help="Seconds to wait for each source.")
    ] = 10.0,
) -> None:
    """Print the health summary (pipeline, clock ticks, dead letters, SMS funnel, alert
    SLOs). Exit status 1 when any panel is red, 0 otherwise, 2 on bad usage."""
    settings = get_settings()
    try:
        clinics = load_clinics(settings.clinics_file)
    except ClinicSettingsError as exc:
        typer.echo(f"afterglow status: clinic settings unreadable: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = create_readmodel_engine(settings.database_url)
    try:
        summary = collect_health(settings, engine, clinics, SystemClock().now(), timeout_s=timeout)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=True, sort_keys=True))
    else:
        for line in render_text(summary):
            tag = line[1:].split("]", 1)[0] if line.startswith("[") else ""
            typer.secho(line, fg=_COLOURS.get(tag))
    raise typer.Exit(1 if summary.verdict is Verdict.RED else 0)
