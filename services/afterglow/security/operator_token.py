"""The bearer token of the worker's operator API (`afterglow schedule` uses it).

AFTERGLOW_OPERATOR_TOKEN wins; otherwise a random token is created once in the data
directory with owner-only permissions, where the CLI on the same machine finds it.
"""

from __future__ import annotations

import errno
import hmac
import os
import secrets
import tempfile
import time
from pathlib import Path

from afterglow.config import Settings

TOKEN_FILE = "operator-token"

# A file system without hard links (some network and host-shared mounts) answers these.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})
# How long an empty token file may be one another process is still writing.
_WRITE_WAIT_S = 5.0


class OperatorTokenError(RuntimeError):
    """The token file exists but holds no token."""


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def ensure_operator_token(settings: Settings) -> str:
    """The configured token, else the one in the data directory, created if there is none.

    `afterglow up` starts the worker and the web process together and both call this: the
    file appears only complete (written to a private temporary file, then hard-linked into
    place, which fails rather than overwrite), so every process ends up with the one token
    and none reads a half-written file (docs/operators.md, "Run")."""
    if settings.operator_token:
        return settings.operator_token
    path = token_path(settings)
    existing = _read_token_file(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        _publish_token(path, token)
    except FileExistsError:
        # Another process created it first: its token is the one everybody uses.
        winner = _read_token_file(path)
        if winner is None:  # created and deleted again in between
            raise OperatorTokenError(f"operator token file {path} vanished") from None
        return winner
    return token


def read_operator_token(settings: Settings) -> str | None:
    if settings.operator_token:
        return settings.operator_token
    try:
        return _read_token_file(token_path(settings))
    except OperatorTokenError:
        return None  # the CLI then says where a token comes from


def authorized(header: str | None, token: str) -> bool:
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())


def _read_token_file(path: Path) -> str | None:
    """The token in `path`, None if there is no file. An empty file may be one being
    written in place (`_publish_without_links`), so it gets a moment; one that stays empty
    (left by a crash) is an error, never an empty token that anyone could send."""
    deadline = time.monotonic() + _WRITE_WAIT_S
    while True:
        try:
            token = path.read_text().strip()
        except FileNotFoundError:
            return None
        if token:
            return token
        if time.monotonic() >= deadline:
            raise OperatorTokenError(
                f"operator token file {path} is empty: delete it and restart the worker and web"
            )
        time.sleep(0.01)


def _publish_token(path: Path, token: str) -> None:
    """Create `path` holding `token`, owner-only; FileExistsError if it already exists."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates the file 0600: the token is never readable by others, not even
        # for a moment, and the link below shares that mode.
        with os.fdopen(handle, "w") as stream:
            stream.write(token + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)  # unlike a rename, never replaces an existing file
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise  # FileExistsError among others
            _publish_without_links(path, token)
    finally:
        os.unlink(temporary)


def _publish_without_links(path: Path, token: str) -> None:
    """Exclusive creation in place: the file is empty until the one write below, which is
    why readers give an empty file a moment."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(token + "\n")
