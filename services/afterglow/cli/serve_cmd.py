"""`afterglow worker` and `afterglow web`: the two long-running processes."""

from __future__ import annotations

import logging

import typer

from afterglow import stop_deadline
from afterglow.broker.topics import ensure_changelog_topics, ensure_topics
from afterglow.config import get_settings
from afterglow.logging_setup import quiet_repeats


def worker() -> None:
    """Run the stream processors (Faust worker) against KAFKA_BOOTSTRAP_SERVERS."""
    # Imported here: Faust patches the event loop policy on import.
    from afterglow.worker.app import create_app
    from afterglow.worker.process import AfterglowWorker

    settings = get_settings()
    report = ensure_topics(settings)
    if not report.ok:
        for mismatch in report.mismatched:
            typer.echo(mismatch.describe(), err=True)
        raise typer.Exit(1)
    app = create_app(settings)
    ensure_changelog_topics(settings, [t.changelog_topic_name for t in app.tables.values()])
    AfterglowWorker(app, loglevel="INFO").execute_from_commandline()


def web() -> None:
    """Serve the dashboard, the Twilio webhooks, the simulator, /healthz and /metrics."""
    from aiohttp import web as aiohttp_web
    from sqlalchemy.exc import SQLAlchemyError

    from afterglow.accounts import schema as accounts_schema
    from afterglow.accounts.store import AccountStore
    from afterglow.readmodel.database import create_readmodel_engine
    from afterglow.web.app import create_web_app
    from afterglow.web.publisher import KafkaPublisher
    from afterglow.web.simulator_routes import RedactingAccessLogger

    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_repeats()
    publisher = KafkaPublisher(settings)
    # Accounts live in the read model's database, in tables of their own (docs/operators.md,
    # "Accounts"); the web process creates them on a fresh install.
    engine = create_readmodel_engine(settings.database_url)
    try:
        accounts_schema.upgrade(engine)
    except SQLAlchemyError as exc:
        # Texts must flow without the dashboard: webhooks never touch the database.
        logging.getLogger("afterglow.web").error(
            "accounts database unreachable, dashboard logins fail until it is: %s",
            type(exc).__name__,
        )
    app = create_web_app(
        settings,
        publisher,
        publisher.reachable,
        accounts=AccountStore(engine),
        publish_raw=publisher.send_raw,
    )

    async def start_publisher(app: aiohttp_web.Application) -> None:
        await publisher.start()

    async def stop_publisher(app: aiohttp_web.Application) -> None:
        await publisher.stop()

    async def arm_stop_deadline(app: aiohttp_web.Application) -> None:
        stop_deadline.arm("afterglow web")

    app.on_startup.append(start_publisher)
    app.on_cleanup.append(stop_publisher)
    # First thing in a stop: an in-flight publish and the producer's flush wait on Kafka,
    # and with Kafka down that outlasts the 10 s a stop may take (docs/operators.md,
    # "Stopping").
    app.on_shutdown.insert(0, arm_stop_deadline)
    aiohttp_web.run_app(
        app,
        host=settings.web_host,
        port=settings.web_port,
        print=lambda line: typer.echo(line),
        # Simulator URLs carry phone numbers: the access log masks them.
        access_log_class=RedactingAccessLogger,
        # Requests still running get this long before they are cancelled (aiohttp's default
        # is 60 s), so the publisher's own stop still fits before the deadline.
        shutdown_timeout=4.0,
    )
