"""Entry point of the `afterglow` console command."""

from __future__ import annotations

import typer

from afterglow.cli import (
    audit_cmd,
    backtest_cmd,
    broker_cmd,
    demo_cmd,
    phone_cmd,
    projector_cmd,
    report_cmd,
    schedule_cmd,
    serve_cmd,
    status_cmd,
    up_cmd,
    users_cmd,
    warnings_cmd,
)

app = typer.Typer(
    name="afterglow",
    help="Follow-up and outcome monitoring after ketamine infusions.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(broker_cmd.app, name="broker")
app.add_typer(demo_cmd.app, name="demo")
app.add_typer(phone_cmd.app, name="phone")
app.add_typer(projector_cmd.projections_app, name="projections")
app.add_typer(users_cmd.app, name="users")
app.add_typer(report_cmd.app, name="report")
app.command("topics")(broker_cmd.topics)
app.command("backtest")(backtest_cmd.backtest)
app.command("worker")(serve_cmd.worker)
app.command("web")(serve_cmd.web)
app.command("up")(up_cmd.up)
app.command("schedule")(schedule_cmd.schedule)
app.command("audit")(audit_cmd.audit)
app.command("warnings")(warnings_cmd.warnings)
app.command("projector")(projector_cmd.projector)
app.command("status")(status_cmd.status)


def main() -> None:
    app()
