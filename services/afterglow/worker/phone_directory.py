"""The phone directory's decisions: who may claim a phone, who may release it, and which of
the patients sharing a phone an inbound text belongs to (docs/developers.md, "The phone
directory").

Pure functions over one directory entry, so the directory agent (the only writer of the
`phones` table, on the phone's partition) stays a few lines. An entry:

    {"phone", "role": "patient" | "clinician", "owner_id": the first owner,
     "owners": [{"owner_id", "shared", "open", "sent_at"}, ...],
     "waiting": [patient ids refused the phone, first refused first]}

Entries written before `owners` existed hold a single owner in `owner_id`. A patient refused
a phone waits for it: when its last owner releases it, the first waiting patient gets it
without the clinic re-sending anything (a number corrected on the other record is the
usual end of such a conflict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SHARED_HINT = "mark the registration shared_phone to allow it"
# Patients waiting for one phone; a conflict beyond this many is refused without a place.
MAX_WAITING = 20
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """The entry to store (None: remove it), and why a claim was refused, if it was."""

    entry: dict[str, Any] | None
    refused: str | None = None
    changed: bool = True
    promoted: str | None = None  # a waiting patient who has the phone now


def owners_of(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    owners = entry.get("owners")
    if owners is None:
        return [{"owner_id": entry["owner_id"], "shared": False}]
    return [dict(owner) for owner in owners]


def apply(entry: Mapping[str, Any] | None, record: Mapping[str, Any]) -> Decision:
    kind = record.get("type", "claim")  # records from before `type` were all claims
    if kind == "claim":
        return _claim(entry, record)
    if entry is None:
        return Decision(None, changed=False)
    waiting = list(entry.get("waiting", []))
    if kind == "release" and record["role"] == "patient" and record["owner_id"] in waiting:
        # A refused patient who moved to another number, or was removed, stops waiting.
        waiting.remove(record["owner_id"])
        return Decision(_entry(entry["phone"], entry["role"], owners_of(entry), waiting))
    if entry["role"] != record["role"]:
        return Decision(_copy(entry), changed=False)
    owners = owners_of(entry)
    mine = [o for o in owners if o["owner_id"] == record["owner_id"]]
    if not mine:
        # Released by someone who no longer owns it (a patient who moved away from a number
        # that another patient holds now): the entry stays as it is.
        return Decision(_copy(entry), changed=False)
    if kind == "release":
        rest = [o for o in owners if o["owner_id"] != record["owner_id"]]
        if rest:
            return Decision(_entry(entry["phone"], entry["role"], rest, waiting))
        if waiting:
            first = {"owner_id": waiting[0], "shared": False}
            return Decision(
                _entry(entry["phone"], "patient", [first], waiting[1:]), promoted=waiting[0]
            )
        return Decision(None)
    # "checkin": a check-in was sent to this owner (open) or closed.
    mine[0]["open"] = bool(record.get("open"))
    if record.get("open"):
        mine[0]["sent_at"] = record["at"]
    return Decision(_entry(entry["phone"], entry["role"], owners, waiting))


def _claim(entry: Mapping[str, Any] | None, record: Mapping[str, Any]) -> Decision:
    claimant = {"owner_id": record["owner_id"], "shared": bool(record.get("shared"))}
    if entry is None:
        return Decision(_entry(record["phone"], record["role"], [claimant], []))
    owners = owners_of(entry)
    waiting = list(entry.get("waiting", []))
    same_role = entry["role"] == record["role"]
    mine = [o for o in owners if o["owner_id"] == claimant["owner_id"]] if same_role else []
    if mine:
        if mine[0].get("shared", False) == claimant["shared"]:
            return Decision(_copy(entry), changed=False)  # the registration was re-sent
        mine[0]["shared"] = claimant["shared"]
        return Decision(_entry(entry["phone"], entry["role"], owners, waiting))
    if record["role"] == "clinician":
        # Clinicians do not wait: their record is corrected by the clinic, and re-sent.
        held_by = "a clinician" if entry["role"] == "clinician" else "a patient"
        return Decision(_copy(entry), f"phone is already registered to {held_by}", False)
    if entry["role"] == "clinician":
        reason = "phone is already registered to a clinician"
    elif not claimant["shared"]:
        reason = f"phone is already registered to another patient; {SHARED_HINT}"
    else:
        if claimant["owner_id"] in waiting:
            waiting.remove(claimant["owner_id"])
        return Decision(_entry(entry["phone"], "patient", [*owners, claimant], waiting))
    if claimant["owner_id"] in waiting or len(waiting) >= MAX_WAITING:
        return Decision(_copy(entry), reason, False)
    waiting.append(claimant["owner_id"])
    return Decision(_entry(entry["phone"], entry["role"], owners, waiting), reason)


def route_patient(entry: Mapping[str, Any]) -> str:
    """The patient a text from this phone belongs to: the one with an open check-in; if none
    or several have one, the one whose check-in was sent most recently (among the open ones,
    if any); with no check-in sent at all, the first to register. Deterministic: ties go to
    the earlier registration."""
    owners = owners_of(entry)
    candidates = [o for o in owners if o.get("open")] or owners
    best = candidates[0]
    for owner in candidates[1:]:
        if _sent(owner) > _sent(best):
            best = owner
    return str(best["owner_id"])


def _sent(owner: Mapping[str, Any]) -> datetime:
    sent_at = owner.get("sent_at")
    return _NEVER if sent_at is None else datetime.fromisoformat(sent_at)


def _entry(
    phone: str, role: str, owners: list[dict[str, Any]], waiting: list[str]
) -> dict[str, Any]:
    entry = {"phone": phone, "role": role, "owner_id": owners[0]["owner_id"], "owners": owners}
    if waiting:
        entry["waiting"] = waiting
    return entry


def _copy(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else dict(entry)
