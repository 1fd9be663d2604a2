"""aiohttp application factory. Routes stay thin; anything with patient data needs a login."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from afterglow.config import Settings
from afterglow.web.alert_routes import register_alert_routes
from afterglow.web.simulator_routes import register_simulator_routes
from afterglow.web.twilio_webhooks import Publish, register_twilio_routes

SETTINGS_KEY = web.AppKey("settings", Settings)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)


def create_web_app(settings: Settings, publish: Publish | None = None) -> web.Application:
    app = web.Application()
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
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if publish is not None:
        register_twilio_routes(app, settings, publish)
        register_simulator_routes(app, settings, publish)
        register_alert_routes(app, settings, publish)
    return app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
