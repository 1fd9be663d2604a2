"""The bearer token of the worker's operator API (`afterglow schedule` uses it).

AFTERGLOW_OPERATOR_TOKEN wins; otherwise a random token is created once in the data
directory with owner-only permissions, where the CLI on the same machine finds it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from afterglow.config import Settings

TOKEN_FILE = "operator-token"


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def ensure_operator_token(settings: Settings) -> str:
    if settings.operator_token:
        return settings.operator_token
    path = token_path(settings)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token


def read_operator_token(settings: Settings) -> str | None:
    if settings.operator_token:
        return settings.operator_token
    path = token_path(settings)
    return path.read_text().strip() if path.exists() else None


def authorized(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
