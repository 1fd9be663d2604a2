"""The phone directory's decisions: who may claim a phone, who may release it, and which of
the patients sharing a phone an inbound text belongs to (docs/developers.md, "The phone
directory").

Pure functions over one directory entry, so the directory agent (the only writer of the
`phones` table, on the phone's partition) stays a few lines. An entry:

    {"phone", "role": "patient" | "clinician", "owner_id": the first owner,
     "owners": [{"owner_id", "shared", "open", "sent_at"}, ...]}

Entries written before `owners` existed hold a single owner in `owner_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SHARED_HINT = "mark the registration shared_phone to allow it"
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """The entry to store (None: remove it), and why a claim was refused, if it was."""

    entry: dict[str, Any] | None
    refused: str | None = None
    changed: bool = True


def owners_of(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    owners = entry.get("owners")
    if owners is None:
        return [{"owner_id": entry["owner_id"], "shared": False}]
    return [dict(owner) for owner in owners]


def apply(entry: Mapping[str, Any] | None, record: Mapping[str, Any]) -> Decision:
    kind = record.get("type", "claim")  # records from before `type` were all claims
    if kind == "claim":
        return _claim(entry, record)
    if entry is None or entry["role"] != record["role"]:
        return Decision(_copy(entry), changed=False)
    owners = owners_of(entry)
    mine = [o for o in owners if o["owner_id"] == record["owner_id"]]
    if not mine:
        # Released by someone who no longer owns it (a patient who moved away from a number
        # that another patient holds now): the entry stays as it is.
        return Decision(_copy(entry), changed=False)
    if kind == "release":
        rest = [o for o in owners if o["owner_id"] != record["owner_id"]]
        return Decision(_entry(entry["phone"], entry["role"], rest) if rest else None)
    # "checkin": a check-in was sent to this owner (open) or closed.
    mine[0]["open"] = bool(record.get("open"))
    if record.get("open"):
        mine[0]["sent_at"] = record["at"]
    return Decision(_entry(entry["phone"], entry["role"], owners))


def _claim(entry: Mapping[str, Any] | None, record: Mapping[str, Any]) -> Decision:
    claimant = {"owner_id": record["owner_id"], "shared": bool(record.get("shared"))}
    if entry is None:
        return Decision(_entry(record["phone"], record["role"], [claimant]))
    owners = owners_of(entry)
    same_role = entry["role"] == record["role"]
    mine = [o for o in owners if o["owner_id"] == claimant["owner_id"]] if same_role else []
    if mine:
        if mine[0].get("shared", False) == claimant["shared"]:
            return Decision(_copy(entry), changed=False)  # the registration was re-sent
        mine[0]["shared"] = claimant["shared"]
        return Decision(_entry(entry["phone"], entry["role"], owners))
    if entry["role"] == "clinician":
        return Decision(_copy(entry), "phone is already registered to a clinician", False)
    if record["role"] == "clinician":
        return Decision(_copy(entry), "phone is already registered to a patient", False)
    if not claimant["shared"]:
        reason = f"phone is already registered to another patient; {SHARED_HINT}"
        return Decision(_copy(entry), reason, False)
    return Decision(_entry(entry["phone"], "patient", [*owners, claimant]))


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


def _entry(phone: str, role: str, owners: list[dict[str, Any]]) -> dict[str, Any]:
    return {"phone": phone, "role": role, "owner_id": owners[0]["owner_id"], "owners": owners}


def _copy(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else dict(entry)
