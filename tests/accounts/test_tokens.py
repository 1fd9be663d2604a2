"""Session and CSRF tokens."""

from __future__ import annotations

from afterglow.accounts.tokens import new_session, same_csrf, token_hash, well_formed


def test_the_database_keeps_only_a_hash_of_the_session_token() -> None:
    session = new_session()
    assert session.token_hash == token_hash(session.token)
    assert session.token not in session.token_hash
    assert new_session().token != session.token


def test_csrf_tokens_compare_exactly() -> None:
    session = new_session()
    assert same_csrf(session.csrf_token, session.csrf_token)
    assert not same_csrf(session.csrf_token, session.csrf_token[:-1])
    assert not same_csrf(session.csrf_token, None)


def test_malformed_cookies_are_refused_before_lookup() -> None:
    assert well_formed(new_session().token)
    assert not well_formed(None)
    assert not well_formed("")
    assert not well_formed("x" * 65)
    assert not well_formed("é" * 10)
