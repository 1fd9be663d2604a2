"""Password hashing and the rules for a new password."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from afterglow.accounts.passwords import (
    MAX_LENGTH,
    WeakPassword,
    check_new_password,
    hash_password,
    verify_password,
)

EMAIL = "dr.lee@clinic-a.example"


def test_a_hash_is_argon2id_and_verifies_only_its_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery").ok
    assert not verify_password(stored, "correct horse batterY").ok
    assert hash_password("correct horse battery") != stored  # salted


def test_a_hash_made_with_weaker_parameters_asks_to_be_replaced() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    result = verify_password(weak.hash("correct horse battery"), "correct horse battery")
    assert result.ok
    assert result.needs_rehash


def test_garbage_in_the_database_is_a_failed_login_not_a_crash() -> None:
    assert not verify_password("not a hash", "correct horse battery").ok


def test_an_oversized_password_is_refused_without_hashing() -> None:
    stored = hash_password("x" * MAX_LENGTH)
    assert not verify_password(stored, "x" * (MAX_LENGTH + 1)).ok


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most 256"),
        (EMAIL.upper(), "e-mail"),
        ("abcabcabcabcabc", "different characters"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_new_password(password, email=EMAIL)


def test_a_long_passphrase_is_accepted() -> None:
    check_new_password("violet kettle under the stairs", email=EMAIL)
