"""`afterglow projector` (keeps the read model current) and `afterglow projections rebuild`
(docs/operators.md, "Read model")."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer
from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from afterglow import stop_deadline
from afterglow.config import get_settings
from afterglow.logging_setup import quiet_repeats

projections_app = typer.Typer(
    help="The read model the dashboards read (SQL, rebuilt from Kafka).", no_args_is_help=True
)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    quiet_repeats()


def projector() -> None:
    """Keep the read model (AFTERGLOW_DATABASE_URL) current from Kafka until SIGTERM."""
    from afterglow.readmodel.projector import run

    settings = get_settings()
    _configure_logging()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_deadline.arm("afterglow projector")
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        run(settings, stop)
    except (KafkaError, SQLAlchemyError) as error:
        typer.echo(f"afterglow projector: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None


@projections_app.command("rebuild")
def rebuild() -> None:
    """Empty the read model and project every projected topic again from its beginning.
    Stop the projector first (`afterglow up` restarts it after the rebuild's drop)."""
    from afterglow.readmodel.projector import rebuild as rebuild_read_model

    settings = get_settings()
    _configure_logging()
    try:
        result = rebuild_read_model(settings)
    except (KafkaError, SQLAlchemyError, TimeoutError) as error:
        typer.echo(f"afterglow projections rebuild: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None
    for topic in result.missing_topics:
        typer.echo(f"afterglow projections rebuild: topic {topic} not found, skipped", err=True)
    counts = result.counts
    typer.echo(
        f"rebuilt: {counts.records} records, {counts.rows} rows, "
        f"{counts.deadletters} not projectable, in {result.seconds:.1f} s"
    )
