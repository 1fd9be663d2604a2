"""Logging in to the dashboard over real HTTP: sessions, CSRF, redirects, cookie flags, and
every non-public path behind the login."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine
from yarl import URL

from afterglow.accounts import schema
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountStore
from afterglow.config import Settings
from afterglow.web.app import create_web_app
from afterglow.web.auth import SESSION_COOKIE, active_session
from afterglow.web.login_routes import LOGIN_CSRF_COOKIE
from afterglow.web.pages import page

EMAIL = "lee@clinic-a.example"
PASSWORD = "violet kettle under the stairs"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

Client = TestClient[web.Request, web.Application]


class SteppedClock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


def _run(
    tmp_path: Path,
    scenario: Callable[[Client, SteppedClock], Awaitable[None]],
    public_url: str | None = None,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    schema.upgrade(engine)
    store = AccountStore(engine)
    store.add_user(EMAIL, [Membership("clinic-a", Role.CLINICIAN)], T0, password=PASSWORD)
    clock = SteppedClock()
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path), AFTERGLOW_PUBLIC_URL=public_url)

    async def inbox(request: web.Request) -> web.Response:
        session = active_session(request)
        # base.html: the user's e-mail and the logout form with the session's CSRF token.
        return page("base.html", user=session.user, csrf_token=session.csrf_token)

    async def change(request: web.Request) -> web.Response:
        return web.Response(text="changed")

    async def main() -> None:
        app = create_web_app(settings, accounts=store, clock=clock)
        app.router.add_get("/inbox", inbox)
        app.router.add_post("/inbox/change", change)
        async with TestClient(TestServer(app)) as client:
            await scenario(client, clock)

    asyncio.run(main())
    engine.dispose()


async def _login_form(client: Client, path: str = "/login") -> dict[str, str]:
    async with client.get(path) as response:
        assert response.status == 200
        html = await response.text()
    fields = dict(re.findall(r'name="(csrf_token|next)" value="([^"]*)"', html))
    return fields


async def _log_in(client: Client, password: str = PASSWORD, **extra: str) -> Any:
    form = {**await _login_form(client), "email": EMAIL, "password": password, **extra}
    return await client.post("/login", data=form, allow_redirects=False)


def test_pages_redirect_to_the_login_and_back_after_it(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with client.get("/inbox?status=open", allow_redirects=False) as response:
            assert response.status == 303
            location = URL(response.headers["Location"])
            assert location.path == "/login"
            assert location.query["next"] == "/inbox?status=open"
        form = await _login_form(client, "/login?next=%2Finbox%3Fstatus%3Dopen")
        assert form["next"] == "/inbox?status=open"
        form |= {"email": EMAIL, "password": PASSWORD}
        async with client.post("/login", data=form, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/inbox?status=open"
            cookie = response.cookies[SESSION_COOKIE]
            assert cookie["httponly"]
            assert cookie["samesite"] == "Lax"
            assert not cookie["secure"]  # plain http on localhost
        async with client.get("/inbox") as response:
            assert EMAIL in await response.text()

    _run(tmp_path, scenario)


def test_over_https_the_session_cookie_is_secure(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with client.get("/login") as response:
            assert response.cookies[LOGIN_CSRF_COOKIE]["secure"]
            form_token = response.cookies[LOGIN_CSRF_COOKIE].value
        # The test client speaks plain http and keeps Secure cookies to itself: send it back.
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": form_token}
        async with client.post(
            "/login",
            data=form,
            headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={form_token}"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert response.cookies[SESSION_COOKIE]["secure"]

    _run(tmp_path, scenario, public_url="https://afterglow.clinic-a.example")


def test_a_wrong_password_stays_on_the_login_page_without_a_session(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with await _log_in(client, password="not the password") as response:
            assert response.status == 401
            assert "Wrong e-mail or password." in await response.text()
            assert SESSION_COOKIE not in response.cookies
        async with client.get("/inbox", allow_redirects=False) as response:
            assert response.status == 303

    _run(tmp_path, scenario)


def test_the_sixth_try_is_told_the_account_is_locked(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        statuses = []
        for n in range(5):
            async with await _log_in(client, password=f"wrong password {n}") as response:
                statuses.append(response.status)
        assert statuses == [401, 401, 401, 401, 429]
        async with await _log_in(client) as response:
            assert response.status == 429
            assert "locked" in await response.text()

    _run(tmp_path, scenario)


def test_a_login_post_without_its_form_token_is_refused(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": "forged"}
        async with client.post("/login", data=form, allow_redirects=False) as response:
            assert response.status == 403
            assert SESSION_COOKIE not in response.cookies

    _run(tmp_path, scenario)


def test_a_change_needs_the_sessions_csrf_token(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        (await _log_in(client)).close()
        async with client.get("/inbox") as response:
            assert response.status == 200
        async with client.post("/inbox/change", data={"x": "1"}) as response:
            assert response.status == 403
        async with client.post("/inbox/change", data={"csrf_token": "forged"}) as response:
            assert response.status == 403
        store_csrf = await _session_csrf(client)
        async with client.post("/inbox/change", data={"csrf_token": store_csrf}) as response:
            assert response.status == 200
        async with client.post("/inbox/change", headers={"X-CSRF-Token": store_csrf}) as response:
            assert response.status == 200

    _run(tmp_path, scenario)


async def _session_csrf(client: Client) -> str:
    """The session's CSRF token, from the logout form every logged-in page carries."""
    async with client.get("/inbox") as response:
        html = await response.text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def test_logout_needs_the_token_and_ends_the_session(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        (await _log_in(client)).close()
        async with client.post("/logout", allow_redirects=False) as response:
            assert response.status == 403  # a cross-site form cannot log anyone out
        token = await _session_csrf(client)
        async with client.post(
            "/logout", data={"csrf_token": token}, allow_redirects=False
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/login"
        async with client.get("/inbox", allow_redirects=False) as response:
            assert response.status == 303

    _run(tmp_path, scenario)


def test_thirty_idle_minutes_log_the_user_out(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        (await _log_in(client)).close()
        clock.at = T0 + timedelta(minutes=29)
        async with client.get("/inbox", allow_redirects=False) as response:
            assert response.status == 200
        clock.at = T0 + timedelta(minutes=60)
        async with client.get("/inbox", allow_redirects=False) as response:
            assert response.status == 303

    _run(tmp_path, scenario)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_the_login_never_redirects_off_the_site(tmp_path: Path, target: str) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with await _log_in(client, next=target) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/inbox"

    _run(tmp_path, scenario)


@pytest.mark.parametrize("path", ["/", "/inbox", "/patients/p-1", "/anything/else"])
def test_every_non_public_path_needs_a_login(tmp_path: Path, path: str) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with client.get(path, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/login?next=")
        async with client.post(path, allow_redirects=False) as response:
            assert response.status == 401

    _run(tmp_path, scenario)


def test_pages_forbid_framing_and_caching(tmp_path: Path) -> None:
    async def scenario(client: Client, clock: SteppedClock) -> None:
        async with client.get("/login") as response:
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["Cache-Control"] == "no-store"

    _run(tmp_path, scenario)


def test_a_new_user_sets_a_password_through_the_link_once(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'links.sqlite3'}")
    schema.upgrade(engine)
    store = AccountStore(engine)
    user = store.add_user("kim@clinic-a.example", [Membership("clinic-a", Role.OPERATOR)], T0)
    link = store.password_link(user, T0)
    settings = Settings(AFTERGLOW_DATA_DIR=str(tmp_path))

    async def set_password(client: Client, password: str, confirm: str) -> tuple[int, str]:
        async with client.get(f"/set-password?token={link}") as response:
            html = await response.text()
        fields = dict(re.findall(r'name="(csrf_token|token)" value="([^"]*)"', html))
        assert fields["token"] == link
        form = {**fields, "password": password, "confirm": confirm}
        async with client.post("/set-password", data=form, allow_redirects=False) as response:
            return response.status, await response.text()

    async def main() -> None:
        app = create_web_app(settings, accounts=store, clock=SteppedClock())
        async with TestClient(TestServer(app)) as client:
            status, html = await set_password(client, PASSWORD, PASSWORD + "x")
            assert (status, "The two passwords differ." in html) == (400, True)
            status, html = await set_password(client, "too short", "too short")
            assert (status, "at least 12 characters" in html) == (400, True)
            assert (await set_password(client, PASSWORD, PASSWORD))[0] == 303
            status, html = await set_password(client, "another long one!", "another long one!")
            assert (status, "has been used" in html) == (400, True)

    asyncio.run(main())
    assert store.log_in("kim@clinic-a.example", PASSWORD, T0).outcome.value == "ok"
    engine.dispose()


def test_a_page_refreshing_itself_does_not_keep_the_session_alive(tmp_path: Path) -> None:
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/inbox?status=open"}

    async def scenario(client: Client, clock: SteppedClock) -> None:
        (await _log_in(client)).close()
        for minutes in (10, 20, 29):  # the inbox polling on its own
            clock.at = T0 + timedelta(minutes=minutes)
            async with client.get("/inbox", headers=htmx, allow_redirects=False) as response:
                assert response.status == 200
        clock.at = T0 + timedelta(minutes=31)  # 31 min since the user last did anything
        async with client.get("/inbox", headers=htmx, allow_redirects=False) as response:
            assert response.status == 401
            assert response.headers["HX-Redirect"] == "/login?next=%2Finbox%3Fstatus%3Dopen"

    _run(tmp_path, scenario)
