"""Who is logged in, for every request of the web process (docs/developers.md, "Accounts
and sessions").

Deny by default: every path needs a session except the few listed in `PUBLIC`, which
carry their own authentication (Twilio's signature, the operator token) or no patient
data. A page request without a session is sent to the login page; anything else gets 401.
A logged-in request that changes state must carry the session's CSRF token (form field
`csrf_token` or header `X-CSRF-Token`), or it is refused with 403.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import urllib.parse
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from afterglow.accounts.store import AccountStore, ActiveSession
from afterglow.accounts.tokens import same_csrf
from afterglow.clock import Clock

log = logging.getLogger(__name__)

SESSION_COOKIE = "afterglow_session"
ACTIVE_SESSION = web.RequestKey("afterglow.session", ActiveSession)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths (exact, or prefixes ending in "/") that handle their own authentication.
PUBLIC = (
    "/login",
    "/set-password",
    "/healthz",
    "/readyz",
    "/metrics",
    "/twilio/",
    "/simulator/",
    "/static/",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC)


def active_session(request: web.Request) -> ActiveSession:
    """The session of a request that passed the middleware (never None behind it)."""
    session: ActiveSession = request[ACTIVE_SESSION]
    return session


def login_url(request: web.Request) -> str:
    """The login page, then back to the page (for htmx, the page that made the request)."""
    back = request.path_qs
    current = request.headers.get("HX-Current-URL")
    if current:
        parsed = urllib.parse.urlsplit(current)
        back = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return f"/login?next={urllib.parse.quote(back, safe='')}"


def login_middleware(
    store: AccountStore, clock: Clock
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_public(request.path):
            return await handler(request)
        token = request.cookies.get(SESSION_COOKIE)
        # htmx marks its requests; its GETs are a page refreshing itself, not the user.
        background = request.headers.get("HX-Request") == "true" and request.method == "GET"
        try:
            session = (
                await asyncio.to_thread(
                    functools.partial(store.session, activity=not background), token, clock.now()
                )
                if token
                else None
            )
        except SQLAlchemyError as exc:
            log.error("dashboard database error: %s", type(exc).__name__)
            raise web.HTTPServiceUnavailable(
                text="the dashboard's database is unavailable"
            ) from None
        if session is None:
            if background:
                # htmx would put the login page inside the table: have it load the page.
                raise web.HTTPUnauthorized(
                    text="log in first", headers={"HX-Redirect": login_url(request)}
                )
            if request.method in SAFE_METHODS:
                raise web.HTTPSeeOther(login_url(request))
            raise web.HTTPUnauthorized(text="log in first")
        if request.method not in SAFE_METHODS:
            given = request.headers.get(CSRF_HEADER)
            if given is None and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                field = (await request.post()).get(CSRF_FIELD)
                given = field if isinstance(field, str) else None
            if not same_csrf(session.csrf_token, given):
                raise web.HTTPForbidden(text="missing or wrong CSRF token; reload the page")
        request[ACTIVE_SESSION] = session
        return await handler(request)

    return require_login
