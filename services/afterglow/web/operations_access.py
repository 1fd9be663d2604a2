"""Who may open the operations pages (docs/operators.md, "The operations page").

An operator of any clinic, or an admin. A clinician without either role gets 403: the
page's existence is no secret (unlike a patient's, which is 404 to other clinics), and a
plain refusal tells them to ask for the role. The per-clinic panels show an operator's
own clinics only; an admin sees every clinic."""

from __future__ import annotations

from aiohttp import web

from afterglow.accounts.roles import Principal, Role
from afterglow.web.auth import active_session


def may_operate(user: Principal) -> bool:
    return user.has_role(Role.OPERATOR) or user.has_role(Role.ADMIN)


def operated_clinics(user: Principal) -> frozenset[str] | None:
    """The clinics of the per-clinic panels; None: every clinic (an admin)."""
    if user.has_role(Role.ADMIN):
        return None
    return user.clinics_as(Role.OPERATOR)


def operator(request: web.Request) -> Principal:
    """The logged-in user, if they may see the operations pages (403 otherwise)."""
    user = active_session(request).user
    if not may_operate(user):
        raise web.HTTPForbidden(text="the operations pages are for operators and admins")
    return user
