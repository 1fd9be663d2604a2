"""`afterglow report outcomes`: a clinic's outcomes as JSON, the numbers of the dashboard's
outcomes page (docs/clinics.md, "Clinic outcomes")."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from afterglow.clock import SystemClock
from afterglow.config import get_settings
from afterglow.core.outcomes.export import as_json
from afterglow.core.outcomes.report import period_or_default
from afterglow.readmodel.database import create_readmodel_engine, upgrade
from afterglow.readmodel.outcomes import clinic_known, clinic_outcomes
from afterglow.registry.clinics import ClinicSettingsError, load_clinics

app = typer.Typer(help="Figures for the medical director, from the read model.")


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {text!r}", param_hint=option) from None


@app.command("outcomes")
def outcomes(
    clinic: Annotated[str, typer.Option("--clinic", help="The clinic's id.")],
    first: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First day of the period (YYYY-MM-DD, UTC); default: --to minus 364 days.",
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option("--to", help="Last day of the period (YYYY-MM-DD, UTC); default: today."),
    ] = None,
) -> None:
    """Print the clinic's outcomes over the period as JSON: response and remission at weeks
    4, 8 and 12, time to relapse, boosters, check-in completion and alert burden."""
    settings = get_settings()
    now = SystemClock().now()
    try:
        period = period_or_default(_date(first, "--from"), _date(last, "--to"), now)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--from/--to") from None
    try:
        clinics = load_clinics(settings.clinics_file)
    except ClinicSettingsError as error:
        typer.echo(f"afterglow report outcomes: {error}", err=True)
        raise typer.Exit(2) from None
    engine = create_readmodel_engine(settings.database_url)
    try:
        upgrade(engine)  # a read model the projector has not created yet is an empty one
        with engine.connect() as db:
            if clinic not in clinics.clinic_ids() and not clinic_known(db, clinic):
                typer.echo(
                    f"afterglow report outcomes: unknown clinic {clinic!r} (not in "
                    f"{settings.clinics_file} and no patient of it in the read model)",
                    err=True,
                )
                raise typer.Exit(2)
            rules = clinics.get(clinic).rules
            report = clinic_outcomes(db, clinic, {clinic}, period, now, rules)
    except SQLAlchemyError as error:
        typer.echo(f"afterglow report outcomes: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    assert report is not None  # the clinic is in the clinics asked for
    typer.echo(json.dumps(as_json(report), indent=2))
