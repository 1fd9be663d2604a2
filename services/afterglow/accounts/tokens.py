"""Session and CSRF tokens. The browser holds the session token; the database holds only its
SHA-256, so a copy of the database logs nobody in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

_TOKEN_BYTES = 32
# A token longer than this is not ours: refused before it is hashed or looked up.
MAX_TOKEN_CHARS = 64


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # for the cookie, never stored
    token_hash: str  # for the database
    csrf_token: str  # for the forms of this session


def new_session() -> NewSession:
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    return NewSession(token, token_hash(token), secrets.token_urlsafe(_TOKEN_BYTES))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str | None) -> bool:
    return token is not None and 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()


def same_csrf(expected: str, given: str | None) -> bool:
    """Constant time, so the comparison leaks nothing about the expected token."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
