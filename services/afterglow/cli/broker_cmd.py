"""`afterglow broker start|stop|status` and `afterglow topics`."""

from __future__ import annotations

from typing import Annotated

import typer
from kafka.errors import KafkaError

from afterglow.broker.launcher import BrokerError, LocalBroker
from afterglow.broker.topics import TopicError, ensure_topics
from afterglow.config import Settings, get_settings
from afterglow.topics import topic_spec

_DAY_MS = 86_400_000

app = typer.Typer(
    help="Run the local single-node Kafka broker (KRaft, no Docker) used for development and CI.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


@app.command()
def start(
    wait_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the broker to answer.", min=1.0)
    ] = 60.0,
) -> None:
    """Start the broker (fetching its jars and formatting storage the first time)."""
    try:
        result = LocalBroker(get_settings()).start(wait_timeout=wait_timeout)
    except BrokerError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(result.describe())


@app.command()
def stop(
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL.", min=0.0)
    ] = 30.0,
) -> None:
    """Stop the broker; its data stays in the data dir."""
    try:
        result = LocalBroker(get_settings()).stop(timeout=timeout)
    except BrokerError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(result.describe())


@app.command()
def status() -> None:
    """Say whether the broker runs, with its pid, address and data dir."""
    typer.echo(LocalBroker(get_settings()).status().describe())


def topics() -> None:
    """Create the missing Kafka topics of the catalog; existing ones are checked, not altered."""
    settings = get_settings()
    try:
        report = ensure_topics(settings)
    except (TopicError, KafkaError) as exc:
        raise _fail(str(exc)) from exc
    for name in report.created:
        typer.echo(f"created {name} ({_summary(settings, name)})")
    for name in report.unchanged:
        typer.echo(f"unchanged {name} (matches the catalog)")
    for problem in report.problems():
        typer.echo(problem, err=True)
    if not report.ok:
        raise typer.Exit(code=1)


def _summary(settings: Settings, physical_name: str) -> str:
    spec = topic_spec(physical_name.removeprefix(settings.topic_prefix))
    parts = [f"{spec.partitions_for(settings)} partitions"]
    if spec.config.get("cleanup.policy") == "compact":
        parts.append("compacted")
    retention_ms = spec.config.get("retention.ms")
    if retention_ms is not None:
        parts.append(f"retention {int(retention_ms) // _DAY_MS} days")
    return ", ".join(parts)
