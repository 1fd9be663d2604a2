"""The dead-letter browser of the operations page: redacted by default; reveal (a clinician
of the record's clinics, or an admin when none can be told), re-publish and discard, each
recorded with who and when on `afterglow.deadletter-actions` (docs/operators.md, "Dead
letters on the operations page")."""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from afterglow.accounts.roles import Principal, Role
from afterglow.audit.records import audit_record
from afterglow.clock import Clock
from afterglow.deadletters import republish
from afterglow.deadletters.actions import action_record
from afterglow.deadletters.clinics import concerned_clinics
from afterglow.deadletters.letters import Action, DeadLetter, LetterId, may_reveal
from afterglow.deadletters.source import LetterSource
from afterglow.topics import AUDIT, DEADLETTER_ACTIONS
from afterglow.validation import default_catalog
from afterglow.web.auth import active_session
from afterglow.web.operations_access import operator
from afterglow.web.pages import page
from afterglow.web.twilio_webhooks import Publish

log = logging.getLogger(__name__)

# The original value and key, as they were (catalog name of the topic).
RawPublish = Callable[[str, bytes | None, bytes], Awaitable[None]]
_LIST = "/operations/dead-letters"
_PUBLISH_TIMEOUT_S = 10.0


def register_dead_letter_routes(
    app: web.Application,
    letters: LetterSource,
    engine: Engine,
    publish: Publish,
    publish_raw: RawPublish,
    clock: Clock,
) -> None:
    catalog = default_catalog()

    async def found(request: web.Request) -> tuple[Principal, DeadLetter, Action | None]:
        user = operator(request)
        wanted = LetterId.parse(request.match_info["letter_id"])
        letter, action = await letters.find(wanted) if wanted else (None, None)
        if letter is None:
            raise web.HTTPNotFound(text="no such dead letter")
        return user, letter, action

    async def revealable(user: Principal, letter: DeadLetter) -> bool:
        def clinics() -> frozenset[str]:
            with engine.connect() as db:
                return concerned_clinics(db, letter)

        concerned = await asyncio.to_thread(clinics)
        return may_reveal(concerned, user.patient_clinics(), user.has_role(Role.ADMIN))

    def show(
        request: web.Request, letter: DeadLetter, action: Action | None, **extra: object
    ) -> web.Response:
        session = active_session(request)
        context: dict[str, Any] = {"revealed": None, "problem": "", **extra}
        return page(
            "operations_dead_letter.html",
            user=session.user,
            csrf_token=session.csrf_token,
            letter=letter,
            action=action,
            **context,
        )

    async def record(user: Principal, letter: DeadLetter, action: str, **extra: bool) -> None:
        entry = action_record(letter, action, user.email, clock.now(), **extra)
        await asyncio.wait_for(publish(DEADLETTER_ACTIONS, entry), _PUBLISH_TIMEOUT_S)

    async def listing(request: web.Request) -> web.Response:
        operator(request)
        session = active_session(request)
        found_letters, actions = await letters.recent()
        return page(
            "operations_dead_letters.html",
            user=session.user,
            csrf_token=session.csrf_token,
            letters=found_letters,
            actions=actions,
            notice=request.query.get("done", "")[:32],
        )

    async def detail(request: web.Request) -> web.Response:
        _, letter, action = await found(request)
        return show(request, letter, action)

    async def reveal(request: web.Request) -> web.Response:
        user, letter, action = await found(request)
        if not await revealable(user, letter):
            raise web.HTTPForbidden(
                text="revealing this payload needs a clinician role in its clinic "
                "(an admin when no clinic can be told)"
            )
        try:
            await record(user, letter, "revealed")
            await _audit_view(user, letter)
        except Exception as exc:  # noqa: BLE001 - no record of the reveal, no reveal
            log.warning("reveal of %s not recorded: %s", letter.id, type(exc).__name__)
            raise web.HTTPServiceUnavailable(
                text="could not record the reveal; try again"
            ) from None
        return show(request, letter, action, revealed=letter.payload)

    async def _audit_view(user: Principal, letter: DeadLetter) -> None:
        patient = letter.named_patient()
        clinics = sorted(letter.named_clinics())
        if patient is None:
            return
        viewed = audit_record(
            event_id=f"view:{uuid.uuid4().hex}",
            patient_id=patient[:128],
            action="viewed",
            actor=user.email,
            at=clock.now(),
            clinic_id=clinics[0][:128] if clinics else None,
            via="dashboard",
            detail=f"dead letter {letter.id}",
        )
        await asyncio.wait_for(publish(AUDIT, viewed), _PUBLISH_TIMEOUT_S)

    async def put_back(request: web.Request) -> web.Response:
        user, letter, action = await found(request)
        text = (await request.post()).get("value")
        text = text.strip() if isinstance(text, str) else ""
        try:
            if text:
                fixed = republish.corrected(letter, text, catalog)
                # Writing a patient's record needs the same right as reading it.
                if not await revealable(user, letter) or not may_reveal(
                    _clinics_of(fixed.record), user.patient_clinics(), user.has_role(Role.ADMIN)
                ):
                    raise republish.Refused(
                        "a corrected value needs a clinician role in the record's clinic"
                    )
                await asyncio.wait_for(publish(fixed.topic, fixed.record), _PUBLISH_TIMEOUT_S)
            else:
                kept = republish.original(letter)
                await asyncio.wait_for(
                    publish_raw(kept.topic, kept.key, kept.value), _PUBLISH_TIMEOUT_S
                )
        except republish.Refused as refused:
            return show(request, letter, action, problem=str(refused), corrected=text)
        await record(user, letter, "republished", corrected=bool(text))
        raise web.HTTPSeeOther(f"{_LIST}?{urllib.parse.urlencode({'done': 'republished'})}")

    async def discard(request: web.Request) -> web.Response:
        user, letter, _ = await found(request)
        await record(user, letter, "discarded")
        raise web.HTTPSeeOther(f"{_LIST}?{urllib.parse.urlencode({'done': 'discarded'})}")

    app.router.add_get(_LIST, listing)
    app.router.add_get(_LIST + "/{letter_id}", detail)
    app.router.add_post(_LIST + "/{letter_id}/reveal", reveal)
    app.router.add_post(_LIST + "/{letter_id}/republish", put_back)
    app.router.add_post(_LIST + "/{letter_id}/discard", discard)


def _clinics_of(record: dict[str, object]) -> frozenset[str]:
    clinic = record.get("clinic_id")
    return frozenset({clinic}) if isinstance(clinic, str) else frozenset()
