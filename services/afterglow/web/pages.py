"""HTML pages: Jinja2 templates in templates/web, escaped by default, and the security headers
every dashboard page carries."""

from __future__ import annotations

import urllib.parse
from functools import cache
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from afterglow.resources import templates_dir
from afterglow.web.navigation import nav_links

# No inline scripts, no third-party origin, no framing (clickjacking on an ACK button).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # patient data never sits in a shared or back-button cache
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir() / "web"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # An id as one path segment: ids may hold "/", spaces, any letter (Jinja's urlencode
    # keeps "/").
    env.filters["segment"] = lambda value: urllib.parse.quote(str(value), safe="")
    env.globals["nav_links"] = nav_links
    return env


def page(template: str, status: int = 200, **context: Any) -> web.Response:
    body = environment().get_template(template).render(**context)
    return web.Response(
        text=body, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )
