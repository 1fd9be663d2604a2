"""Who hears of an alert, and how (docs/rules.md, "Alert lifecycle"): pure decisions that the
alert desk and the notifier carry out.

- A new P3 alert goes to a daily digest, never to a page: the patient's clinician's digest,
  or the clinic director's when the patient has no clinician.
- A new P1 or P2 alert pages the patient's clinician, or the director at once when there is
  no clinician (nobody to wait for).
- An escalation step pages its role: the backup through the primary clinician (whose
  record names the backup), the director directly; without a clinician, the director.
- A page for the backup that reaches the primary's partition hops to the backup, or to the
  director when the primary has no backup. A recipient without a phone on file passes the
  page to the director; when the director has no phone either, nobody is left. A digest
  item for a clinician without a phone on file goes to the director's digest.
- Acknowledgments and resolutions reach the primary, who tells their backup, and the
  director, so that nobody keeps being offered a code of an alert someone else has handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from afterglow.core.alerting.record import Role


class NoticeType(StrEnum):
    PAGE = "page"
    DIGEST_ITEM = "digest_item"


@dataclass(frozen=True, slots=True)
class Notice:
    type: NoticeType
    recipient: str  # a clinician id or a director key (`director:<clinic_id>`)
    role: Role


@dataclass(frozen=True, slots=True)
class Hop:
    """Pass a page (or a status) on to `recipient`, in `role`; `for_clinician` names the
    clinician whose backup this is, so the backup's partition does not forward again."""

    recipient: str
    role: Role
    for_clinician: str | None = None


def first_notice(priority: str, clinician: str | None, director: str) -> Notice:
    """How a newly raised alert is first brought to someone."""
    if priority == "P3":
        return Notice(NoticeType.DIGEST_ITEM, clinician or director, Role.PRIMARY)
    if clinician:
        return Notice(NoticeType.PAGE, clinician, Role.PRIMARY)
    return Notice(NoticeType.PAGE, director, Role.DIRECTOR)


def escalation_page(role: Role, clinician: str | None, director: str) -> Notice:
    """The page an escalation step sends: to the director directly, to the backup via the
    primary clinician's partition."""
    if role is Role.DIRECTOR or not clinician:
        return Notice(NoticeType.PAGE, director, Role.DIRECTOR)
    return Notice(NoticeType.PAGE, clinician, role)


def backup_hop(
    role: Role, recipient: str, forwarded: bool, backup: str | None, director: str
) -> Hop | None:
    """Where a page at the primary's partition goes next; None: text `recipient` here."""
    if role is not Role.BACKUP or forwarded:
        return None
    if backup:
        return Hop(backup, Role.BACKUP, for_clinician=recipient)
    return Hop(director, Role.DIRECTOR)


def unreachable_hop(role: Role, director: str) -> Hop | None:
    """A recipient with no phone on file: the director next, unless it was the director."""
    return None if role is Role.DIRECTOR else Hop(director, Role.DIRECTOR)


def unreachable_digest_hop(recipient: str, director: str) -> Hop | None:
    """A P3 digest item for a recipient without a phone on file: the director's digest,
    unless it was the director's."""
    return None if recipient.startswith("director:") else Hop(director, Role.DIRECTOR)


def status_hop(recipient: str, forwarded: bool, backup: str | None) -> Hop | None:
    """An alert's new status at the primary's partition is passed on to their backup."""
    if forwarded or not backup:
        return None
    return Hop(backup, Role.BACKUP, for_clinician=recipient)
