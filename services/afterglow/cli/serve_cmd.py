"""`afterglow worker` and `afterglow web`: the two long-running processes."""

from __future__ import annotations

import logging

import typer

from afterglow.broker.topics import ensure_changelog_topics, ensure_topics
from afterglow.config import get_settings


def worker() -> None:
    """Run the stream processors (Faust worker) against KAFKA_BOOTSTRAP_SERVERS."""
    import faust  # imported here: Faust patches the event loop policy on import

    from afterglow.worker.app import create_app

    settings = get_settings()
    report = ensure_topics(settings)
    if not report.ok:
        for mismatch in report.mismatched:
            typer.echo(mismatch.describe(), err=True)
        raise typer.Exit(1)
    app = create_app(settings)
    ensure_changelog_topics(settings, [t.changelog_topic_name for t in app.tables.values()])
    faust.Worker(app, loglevel="INFO").execute_from_commandline()


def web() -> None:
    """Serve /healthz and /metrics (and, later, webhooks and the dashboard)."""
    from aiohttp import web as aiohttp_web

    from afterglow.web.app import create_web_app
    from afterglow.web.publisher import KafkaPublisher
    from afterglow.web.simulator_routes import RedactingAccessLogger

    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    publisher = KafkaPublisher(settings)
    app = create_web_app(settings, publisher)

    async def start_publisher(app: aiohttp_web.Application) -> None:
        await publisher.start()

    async def stop_publisher(app: aiohttp_web.Application) -> None:
        await publisher.stop()

    app.on_startup.append(start_publisher)
    app.on_cleanup.append(stop_publisher)
    aiohttp_web.run_app(
        app,
        host=settings.web_host,
        port=settings.web_port,
        print=lambda line: typer.echo(line),
        # Simulator URLs carry phone numbers: the access log masks them.
        access_log_class=RedactingAccessLogger,
    )
