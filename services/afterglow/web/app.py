"""aiohttp application factory. Routes stay thin; anything with patient data needs a login."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from sqlalchemy import Engine

from afterglow.accounts.store import AccountStore
from afterglow.clock import Clock, SystemClock, clock_for
from afterglow.config import Settings
from afterglow.deadletters.source import KafkaLetters, LetterSource
from afterglow.operations.model import HealthSummary
from afterglow.operations.summary import Tallies, collect_health
from afterglow.registry.clinics import ClinicDirectory, load_clinics
from afterglow.resources import templates_dir
from afterglow.security.operator_token import ensure_operator_token
from afterglow.web.alert_actions import AlertActions
from afterglow.web.alert_lookup import AlertLookup, WorkerAlertLookup
from afterglow.web.alert_page_routes import register_alert_page_routes
from afterglow.web.auth import login_middleware
from afterglow.web.dead_letter_routes import RawPublish, register_dead_letter_routes
from afterglow.web.health_source import HealthSource
from afterglow.web.inbox_routes import register_inbox_routes
from afterglow.web.login_routes import register_login_routes
from afterglow.web.operations_routes import register_operations_routes
from afterglow.web.outcomes_routes import register_outcomes_routes
from afterglow.web.patient_list_routes import register_patient_list_routes
from afterglow.web.patient_routes import register_patient_routes
from afterglow.web.simulator_routes import register_simulator_routes
from afterglow.web.slo_metrics import OverdueAlertsCollector
from afterglow.web.spool import Spool, SpoolDrainer
from afterglow.web.twilio_webhooks import Publish, register_twilio_routes

SETTINGS_KEY = web.AppKey("settings", Settings)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
DRAINER_KEY = web.AppKey("spool-drainer", asyncio.Task[None])


# Whether Kafka answers now (for /readyz); the web process's publisher provides it.
Reachable = Callable[[], Awaitable[bool]]


def create_web_app(
    settings: Settings,
    publish: Publish | None = None,
    reachable: Reachable | None = None,
    *,
    accounts: AccountStore | None = None,
    clock: Clock | None = None,
    alert_lookup: AlertLookup | None = None,
    publish_raw: RawPublish | None = None,
    health: HealthSource | None = None,
    letters: LetterSource | None = None,
) -> web.Application:
    """The web process. With `accounts`, the dashboard (logins, inbox) on the accounts'
    database, which also holds the read model; with `publish`, the Twilio webhooks and the
    simulator, and with both, the inbox's alert actions (as the logged-in user only: no
    route takes an actor from the caller, docs/operators.md, "Alerts")."""
    app = web.Application()
    clock = clock or SystemClock()
    registry = CollectorRegistry()
    requests = Counter(
        "afterglow_web_requests_total",
        "HTTP requests served, by route and status.",
        ["route", "status"],
        registry=registry,
    )
    app[SETTINGS_KEY] = settings
    app[REGISTRY_KEY] = registry

    @web.middleware
    async def count_requests(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        requests.labels(name, str(response.status)).inc()
        return response

    app.middlewares.append(count_requests)
    if accounts is not None:
        app.middlewares.append(login_middleware(accounts, clock))
        register_login_routes(app, settings, accounts, clock)
    app.router.add_get("/healthz", healthz)
    # Vendored scripts and the stylesheet (templates/web/static/VENDORED.md); no CDN.
    app.router.add_static("/static/", templates_dir() / "web" / "static", follow_symlinks=False)
    app.router.add_get("/metrics", metrics)
    spool = Spool(settings.data_dir / "spool") if publish is not None else None
    app.router.add_get("/readyz", readiness(reachable, spool))
    if publish is not None:
        assert spool is not None
        drain_spool_in_background(app, SpoolDrainer(spool, publish))
        # Texts are stamped on the worker's time (simulated in a demo); logins and sessions
        # keep the wall clock.
        texts_clock = clock_for(settings.clock_speed, settings.clock_origin, settings.clock_anchor)
        register_twilio_routes(app, settings, publish, spool=spool, clock=texts_clock)
        register_simulator_routes(app, settings, publish, clock=texts_clock)
        if accounts is not None:
            lookup = alert_lookup or worker_alert_lookup(app, settings)
            clinics = load_clinics(settings.clinics_file)
            register_inbox_routes(
                app, accounts.engine, clinics, AlertActions(publish, lookup, clock), clock
            )
            register_alert_page_routes(app, accounts.engine, clinics, publish, clock)
            register_patient_list_routes(app, accounts.engine, clinics, clock)
            register_patient_routes(app, accounts.engine, publish, clock, clinics)
            register_outcomes_routes(app, accounts.engine, clinics, clock)
            register_operations_routes(
                app, health or kafka_health(settings, accounts.engine, clinics, clock)
            )
            registry.register(OverdueAlertsCollector(accounts.engine, clinics, clock))
            register_dead_letter_routes(
                app,
                letters or KafkaLetters(settings),
                accounts.engine,
                publish,
                publish_raw or _no_raw_publish,
                clock,
            )
    return app


def kafka_health(
    settings: Settings, engine: Engine, clinics: ClinicDirectory, clock: Clock
) -> HealthSource:
    """The summary from Kafka and the read model, on one `Tallies` kept by the process."""
    tallies = Tallies.new(settings)

    def collect(now: datetime) -> HealthSummary:
        return collect_health(settings, engine, clinics, now, timeout_s=5.0, tallies=tallies)

    return HealthSource(collect, clock, close=tallies.close)


async def _no_raw_publish(topic: str, key: bytes | None, value: bytes) -> None:
    raise RuntimeError("this web process cannot re-publish original values")


def worker_alert_lookup(app: web.Application, settings: Settings) -> AlertLookup:
    """The worker's operator API answers whether an alert is open (docs/operators.md)."""
    lookup = WorkerAlertLookup(settings.worker_url, ensure_operator_token(settings))

    async def close(app: web.Application) -> None:
        await lookup.close()

    app.on_cleanup.append(close)
    return lookup


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process serves. Whether it can pass texts on is /readyz."""
    return web.json_response({"status": "ok"})


def readiness(
    reachable: Reachable | None, spool: Spool | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(request: web.Request) -> web.Response:
        """503 while Kafka does not answer: texts are still taken (into the spool), but a
        load balancer with a healthy peer should prefer it (docs/operators.md, "Monitor")."""
        kafka = reachable is not None and await reachable()
        body = {
            "ready": kafka,
            "kafka": "reachable" if kafka else "unreachable",
            "spooled_texts": spool.backlog() if spool is not None else 0,
        }
        return web.json_response(body, status=200 if kafka else 503)

    return readyz


def drain_spool_in_background(app: web.Application, drainer: SpoolDrainer) -> None:
    async def start(app: web.Application) -> None:
        app[DRAINER_KEY] = asyncio.create_task(drainer.run())

    async def stop(app: web.Application) -> None:
        task = app[DRAINER_KEY]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.on_startup.append(start)
    app.on_shutdown.append(stop)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
