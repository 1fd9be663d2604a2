"""Asking the worker whether an alert is open, over HTTP (its operator API): one path
segment per patient id however it is spelled, and a worker that cannot answer is
reported, never taken for "not open"."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from afterglow.config import Settings
from afterglow.web.alert_lookup import WorkerAlertLookup, WorkerUnavailable
from tests.support.alert_lookup import fake_worker, open_alert
from tests.support.processes import free_port

TOKEN = "operator-token-for-tests"


def test_the_worker_is_asked_over_http() -> None:
    odd_id = "pt 7/ü?x"  # one path segment, however it is spelled
    alerts = [
        open_alert("a1b2", "pt-1", status="acknowledged"),
        open_alert("e5f6", odd_id),
        open_alert("g7h8", "pt-1", status="resolved"),
    ]
    seen: list[str] = []

    async def main() -> None:
        async with TestServer(fake_worker(alerts, seen, TOKEN)) as worker:
            base = str(worker.make_url("/"))
            lookup = WorkerAlertLookup(base, TOKEN)
            try:
                assert (await lookup.open_alert("pt-1", "a1b2")) == alerts[0]
                assert (await lookup.open_alert("pt-1", "e5f6")) is None
                assert (await lookup.open_alert(odd_id, "e5f6")) == alerts[1]
                assert (await lookup.open_alert("pt-1", "g7h8")) is None  # resolved
                assert (await lookup.open_alert("pt-unknown", "a1b2")) is None
            finally:
                await lookup.close()
            wrong = WorkerAlertLookup(base, "not-the-token")
            try:
                with pytest.raises(WorkerUnavailable, match="refused the operator token"):
                    await wrong.open_alert("pt-1", "a1b2")
            finally:
                await wrong.close()

    asyncio.run(main())
    assert seen == ["pt-1", "pt-1", odd_id, "pt-1", "pt-unknown"]


def test_an_answer_without_a_list_of_alerts_is_not_taken_for_none_open() -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.json_response({"patient_id": "pt-1"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/api/alerts/{patient_id}/", odd)
        async with TestServer(app) as worker:
            lookup = WorkerAlertLookup(str(worker.make_url("/")), TOKEN)
            try:
                with pytest.raises(WorkerUnavailable, match="no list of alerts"):
                    await lookup.open_alert("pt-1", "a1b2")
            finally:
                await lookup.close()

    asyncio.run(main())


def test_an_unreachable_worker_is_reported_not_hidden() -> None:
    async def main() -> None:
        lookup = WorkerAlertLookup(f"http://127.0.0.1:{free_port()}", TOKEN, timeout_s=2.0)
        try:
            with pytest.raises(WorkerUnavailable, match="not reachable"):
                await lookup.open_alert("pt-1", "a1b2")
        finally:
            await lookup.close()

    asyncio.run(main())


def test_the_worker_url_defaults_to_this_machines_worker() -> None:
    # Every knob explicit: the caller's environment must not leak in.
    local = Settings(worker_url="", worker_web_host="127.0.0.1", worker_web_port=7001)
    assert local.worker_url == "http://127.0.0.1:7001"
    everywhere = Settings(worker_url="", worker_web_host="0.0.0.0", worker_web_port=7002)
    assert everywhere.worker_url == "http://127.0.0.1:7002"
    elsewhere = Settings(worker_url="https://worker.internal:6066/")
    assert elsewhere.worker_url == "https://worker.internal:6066"
