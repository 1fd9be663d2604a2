"""The login and logout pages.

The login form has a CSRF token of its own (a cookie and a form field that must match), so
another site cannot log a clinician into an account of its choosing. A new session token
is issued at every login; the cookie is HttpOnly, SameSite=Lax, and Secure when the public
URL is https (docs/operators.md, "Accounts").
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from afterglow.accounts.passwords import WeakPassword
from afterglow.accounts.policy import DEFAULT_POLICY
from afterglow.accounts.store import AccountError, AccountStore, LoginOutcome
from afterglow.accounts.tokens import same_csrf
from afterglow.clock import Clock
from afterglow.config import Settings
from afterglow.web.auth import CSRF_FIELD, SESSION_COOKIE, active_session
from afterglow.web.pages import page

LOGIN_CSRF_COOKIE = "afterglow_login_csrf"
# Where to go after the login, when the form is shown again (a wrong password).
NEXT_PATH = web.RequestKey("afterglow.next-path", str)
HOME = "/inbox"
_MAX_FIELD = 1_024


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link bounce through
    the real login page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target if target.isprintable() and len(target) <= _MAX_FIELD else HOME


def form_token(request: web.Request) -> str:
    """The browser's form token if it has one, else a new one. Kept, not replaced, on every
    page: a second tab, or the browser's own request for /favicon.ico that lands on the
    login page, would otherwise invalidate the form already on screen."""
    held = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if (
        32 <= len(held) <= 64
        and held.isascii()
        and held.replace("-", "").replace("_", "").isalnum()
    ):
        return held
    return secrets.token_urlsafe(32)


def register_login_routes(
    app: web.Application, settings: Settings, store: AccountStore, clock: Clock
) -> None:
    secure = (settings.public_url or "").startswith("https://")
    cookie_flags: dict[str, Any] = {
        "httponly": True,
        "samesite": "Lax",
        "secure": secure,
        "path": "/",
    }

    def form_page(request: web.Request, template: str, status: int, **context: Any) -> web.Response:
        """A page with a logged-out form: its token in a field and in the cookie."""
        token = form_token(request)
        response = page(template, status=status, user=None, login_csrf=token, **context)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **cookie_flags)
        return response

    def login_page(
        request: web.Request, message: str = "", email: str = "", status: int = 200
    ) -> web.Response:
        next_path = safe_next(request.query.get("next") or request.get(NEXT_PATH))
        return form_page(
            request, "login.html", status, message=message, email=email, next_path=next_path
        )

    async def show(request: web.Request) -> web.StreamResponse:
        return login_page(request)

    async def log_in(request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except (ValueError, LookupError):
            return login_page(request, "The form could not be read; try again.", status=400)
        fields = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= _MAX_FIELD}
        request[NEXT_PATH] = fields.get("next", "")
        if not same_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), fields.get(CSRF_FIELD)):
            return login_page(request, "The form expired; try again.", status=403)
        email = fields.get("email", "")
        try:
            login = await asyncio.to_thread(
                store.log_in, email, fields.get("password", ""), clock.now()
            )
        except SQLAlchemyError:
            message = "The dashboard's database is unavailable; try again in a minute."
            return login_page(request, message, email, status=503)
        if login.outcome is LoginOutcome.LOCKED:
            minutes = int(DEFAULT_POLICY.lockout.total_seconds() // 60)
            message = f"Too many failed logins: this account is locked for up to {minutes} minutes."
            return login_page(request, message, email, status=429)
        if login.outcome is not LoginOutcome.OK or login.session is None:
            return login_page(request, "Wrong e-mail or password.", email, status=401)
        response = web.HTTPSeeOther(safe_next(fields.get("next")))
        response.set_cookie(SESSION_COOKIE, login.session.token, **cookie_flags)
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
        raise response

    async def log_out(request: web.Request) -> web.StreamResponse:
        await asyncio.to_thread(store.log_out, request.cookies.get(SESSION_COOKIE), clock.now())
        active_session(request)  # the middleware let only a logged-in request through
        response = web.HTTPSeeOther("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    def password_page(
        request: web.Request, token: str, message: str = "", status: int = 200
    ) -> web.Response:
        return form_page(request, "set_password.html", status, message=message, token=token)

    async def show_set_password(request: web.Request) -> web.StreamResponse:
        return password_page(request, request.query.get("token", "")[:_MAX_FIELD])

    async def set_password(request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except (ValueError, LookupError):
            return password_page(request, "", "The form could not be read.", status=400)
        fields = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= _MAX_FIELD}
        token = fields.get("token", "")
        if not same_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), fields.get(CSRF_FIELD)):
            return password_page(request, token, "The form expired; try again.", status=403)
        password = fields.get("password", "")
        if password != fields.get("confirm"):
            return password_page(request, token, "The two passwords differ.", status=400)
        try:
            await asyncio.to_thread(store.set_password_with_link, token, password, clock.now())
        except (AccountError, WeakPassword) as exc:
            return password_page(request, token, f"{str(exc).capitalize()}.", status=400)
        raise web.HTTPSeeOther("/login")

    async def home(request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther(HOME)

    app.router.add_get("/login", show)
    app.router.add_post("/login", log_in)
    app.router.add_post("/logout", log_out)
    app.router.add_get("/set-password", show_set_password)
    app.router.add_post("/set-password", set_password)
    app.router.add_get("/", home)
