"""The dashboard's vendored assets: served from the web process, as published."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from afterglow.config import Settings
from afterglow.resources import templates_dir
from afterglow.web.app import create_web_app

STATIC = templates_dir() / "web" / "static"


def test_every_vendored_file_has_the_checksum_its_table_gives() -> None:
    table = (STATIC / "VENDORED.md").read_text()
    listed = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|", table, re.M)
    assert listed, "VENDORED.md lists no file"
    for name, digest in listed:
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_assets_are_served_without_a_login_and_nothing_outside_the_folder(tmp_path: Path) -> None:
    async def main() -> None:
        app = create_web_app(Settings(AFTERGLOW_DATA_DIR=str(tmp_path)))
        async with TestClient(TestServer(app)) as client:
            async with client.get("/static/htmx-2.0.11.min.js") as response:
                assert response.status == 200
                assert (await response.read()) == (STATIC / "htmx-2.0.11.min.js").read_bytes()
            async with client.get("/static/../base.html") as response:
                assert response.status in (403, 404)

    asyncio.run(main())
