"""`afterglow users`: dashboard accounts (docs/operators.md, "Accounts")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from afterglow.accounts import schema
from afterglow.accounts.passwords import WeakPassword
from afterglow.accounts.roles import Membership, Role
from afterglow.accounts.store import AccountError, AccountStore
from afterglow.clock import SystemClock
from afterglow.config import Settings, get_settings
from afterglow.readmodel.alert_queries import clinician_clinic
from afterglow.readmodel.database import create_readmodel_engine
from afterglow.registry.clinics import load_clinics

app = typer.Typer(
    help="Dashboard accounts: add, link to a clinician, set-password links, log out, disable."
)


@contextmanager
def account_store(settings: Settings) -> Iterator[AccountStore]:
    engine = create_readmodel_engine(settings.database_url)
    try:
        schema.upgrade(engine)
        yield AccountStore(engine)
    finally:
        engine.dispose()


def password_link_url(settings: Settings, token: str) -> str:
    base = (settings.public_url or f"http://{settings.web_host}:{settings.web_port}").rstrip("/")
    return f"{base}/set-password?token={token}"


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address: the login name.")],
    role: Annotated[Role, typer.Option("--role", help="What the account is for.")],
    clinics: Annotated[
        list[str], typer.Option("--clinic", help="A clinic of the account (repeat for more).")
    ],
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Print a one-time set-password link (valid 24 h) instead of asking for one.",
        ),
    ] = False,
    clinician_id: Annotated[
        str | None,
        typer.Option(
            "--clinician-id",
            help="The clinician (id in clinic.clinicians) this account is: the inbox's 'mine'.",
        ),
    ] = None,
) -> None:
    """Add an account with a role in one or more clinics. The password is asked twice (never
    an argument: it would stay in the shell's history), or set by the user through --link."""
    settings = get_settings()
    known = load_clinics(settings.clinics_file).clinic_ids()
    unknown = [c for c in clinics if known and c not in known]
    if unknown:
        typer.echo(
            f"afterglow users: unknown clinic {unknown[0]!r}; clinics: {', '.join(known)}",
            err=True,
        )
        raise typer.Exit(2)
    password = None
    if not link:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    now = SystemClock().now()
    with account_store(settings) as store:
        if clinician_id is not None and role is Role.CLINICIAN:
            _check_registry(store, clinician_id, frozenset(clinics))
        try:
            user_id = store.add_user(
                email,
                [Membership(c, role) for c in clinics],
                now,
                password=password,
                clinician_id=clinician_id,
            )
        except (AccountError, WeakPassword) as exc:
            typer.echo(f"afterglow users: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"added {email.strip().lower()} ({role} of {', '.join(clinics)})")
        if clinician_id is not None:
            typer.echo(f"linked to clinician {clinician_id!r}")
        if link:
            url = password_link_url(settings, store.password_link(user_id, now))
            typer.echo(f"set-password link (once, within 24 h): {url}")


@app.command("set-clinician")
def set_clinician(
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    clinician_id: Annotated[
        str | None, typer.Argument(help="The clinician's id in clinic.clinicians.")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Unlink the account from any clinician.")
    ] = False,
) -> None:
    """Link a clinician account to the clinician it is in the clinic registry (the inbox's
    "mine" shows that clinician's alerts), or unlink it with --clear."""
    if (clinician_id is None) == (not clear):
        typer.echo("afterglow users: give a CLINICIAN_ID or --clear (not both)", err=True)
        raise typer.Exit(2)
    with account_store(get_settings()) as store:
        user_id = _existing(store, email)
        if clinician_id is not None:
            _check_registry(store, clinician_id, store.clinician_clinics(user_id))
        try:
            store.set_clinician(user_id, clinician_id)
        except AccountError as exc:
            typer.echo(f"afterglow users: {exc}", err=True)
            raise typer.Exit(1) from None
    who = email.strip().lower()
    if clinician_id is None:
        typer.echo(f"{who} is linked to no clinician")
    else:
        typer.echo(f"{who} is clinician {clinician_id!r}")


def _check_registry(store: AccountStore, clinician_id: str, clinics: frozenset[str]) -> None:
    """Refuse a clinician the registry puts in a clinic the account is not a clinician of;
    only warn about one it does not list yet (the projector may not have seen them)."""
    with store.engine.connect() as db:
        clinic = clinician_clinic(db, clinician_id)
    if clinic is None:
        typer.echo(
            f"afterglow users: warning: the read model has no clinician {clinician_id!r} "
            "(yet); 'mine' shows their alerts once the id matches clinic.clinicians",
            err=True,
        )
    elif clinic not in clinics:
        typer.echo(
            f"afterglow users: clinician {clinician_id!r} is in clinic {clinic!r}, where "
            "this account is not a clinician",
            err=True,
        )
        raise typer.Exit(1)


@app.command("link")
def new_link(email: Annotated[str, typer.Argument(help="The account's e-mail address.")]) -> None:
    """Print a new one-time set-password link (a forgotten password)."""
    settings = get_settings()
    with account_store(settings) as store:
        user_id = _existing(store, email)
        url = password_link_url(settings, store.password_link(user_id, SystemClock().now()))
    typer.echo(f"set-password link (once, within 24 h): {url}")


@app.command("logout")
def log_out(email: Annotated[str, typer.Argument(help="The account's e-mail address.")]) -> None:
    """End every session of the account now (a lost laptop)."""
    with account_store(get_settings()) as store:
        ended = store.revoke_all(_existing(store, email), SystemClock().now())
    typer.echo(f"ended {ended} session(s)")


@app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="The account's e-mail address.")]) -> None:
    """Disable the account and end its sessions (someone who left the clinic)."""
    with account_store(get_settings()) as store:
        store.disable(_existing(store, email), SystemClock().now())
    typer.echo(f"disabled {email.strip().lower()}")


def _existing(store: AccountStore, email: str) -> int:
    try:
        user_id = store.user_id(email)
    except AccountError as exc:
        typer.echo(f"afterglow users: {exc}", err=True)
        raise typer.Exit(2) from None
    if user_id is None:
        typer.echo(f"afterglow users: no account for {email.strip().lower()}", err=True)
        raise typer.Exit(1)
    return user_id
