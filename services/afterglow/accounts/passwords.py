"""Password hashing: argon2id with argon2-cffi's defaults (RFC 9106's second recommended
profile: 3 passes, 64 MiB, 4 lanes), and the rules a new password must meet."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# Bounded input: argon2 would hash a megabyte, at a megabyte's cost, for anyone who posts one.
MAX_LENGTH = 256

_HASHER = PasswordHasher(type=Type.ID)


class WeakPassword(ValueError):
    """A new password that does not meet the rules; the message says which."""


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    needs_rehash: bool = False  # hashed with older parameters: store a new hash now


def check_new_password(password: str, *, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if password.strip().casefold() == email.strip().casefold():
        raise WeakPassword("a password must not be the e-mail address")
    if len(set(password)) < 4:
        raise WeakPassword("a password needs more than three different characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> Verification:
    if len(password) > MAX_LENGTH:
        return Verification(ok=False)
    try:
        _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return Verification(ok=False)
    return Verification(ok=True, needs_rehash=_HASHER.check_needs_rehash(stored_hash))
