"""The notifier: clinician texts, on the recipient's partition.

Pages, digest items and answers to ACK texts arrive keyed by recipient (a clinician id, or
`director:<clinic_id>`), so the clinician record and the recipient's acknowledgment codes
are local. Every text has a deterministic send key: the sender's ledger makes a replayed
page a no-op, never a second text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.audit.records import SYSTEM, audit_record
from afterglow.core.alerting import (
    ClinicianTemplate,
    Hop,
    ReplyKind,
    Role,
    ack_code_for,
    backup_hop,
    kind_label,
    parse_clinician_reply,
    patient_ref,
    status_hop,
    unreachable_digest_hop,
    unreachable_hop,
)
from afterglow.operator_warnings.records import WarningKind
from afterglow.registry.clinics import ClinicDirectory
from afterglow.sms.templates import render
from afterglow.topics import (
    ALERT_ACTIONS,
    ALERT_NOTIFICATIONS,
    AUDIT,
    SMS_CLINICIAN_INBOUND,
    SMS_OUTBOUND,
    SMS_OUTBOUND_URGENT,
)
from afterglow.worker.context import WorkerContext
from afterglow.worker.operator_warnings import raise_warning

log = logging.getLogger(__name__)
_LANGUAGE = "en"  # clinician records carry no language (schemas/)
_MAX_LISTED_CODES = 5
_CODE_LIFETIME = timedelta(days=30)
_ESCALATED_FROM = {Role.BACKUP: Role.PRIMARY.value, Role.DIRECTOR: Role.BACKUP.value}


def actor_for(recipient: str) -> str:
    return recipient if recipient.startswith("director:") else f"clinician:{recipient}"


class Notifier:
    def __init__(self, context: WorkerContext, clinics: ClinicDirectory) -> None:
        self.context = context
        self.clinics = clinics
        self.codes = context.table("alert-codes", "recipient -> code -> alert")
        self.digests = context.table("alert-digests", "recipient -> pending P3 items")

    # -- notifications ---------------------------------------------------------------------

    async def handle(self, event: Any) -> str:
        data = self.context.decode(ALERT_NOTIFICATIONS, event)
        if data["type"] == "page":
            return await self._page(data)
        if data["type"] == "digest_item":
            return await self._digest_item(event.message.partition, data)
        if data["type"] == "alert_status":
            return await self._alert_status(data)
        return await self._ack_result(data)

    async def _alert_status(self, data: Mapping[str, Any]) -> str:
        """An alert was acknowledged or resolved: its code stops being offered as open (and
        is freed once resolved), and a resolved P3 leaves the pending digest."""
        recipient: str = data["recipient"]
        key = recipient.encode()
        codes: dict[str, Any] = dict(self.codes.get(key) or {})
        held = [code for code, entry in codes.items() if entry["alert_id"] == data["alert_id"]]
        for code in held:
            if data["status"] == "resolved":
                del codes[code]
            else:
                codes[code] = {**codes[code], "state": "acknowledged"}
        if held:
            self.codes[key] = codes
        digest = self.digests.get(key)
        if data["status"] == "resolved" and digest is not None:
            items = [i for i in digest["items"] if i["alert_id"] != data["alert_id"]]
            if len(items) != len(digest["items"]):
                self.digests[key] = {**digest, "items": items}
        hop = status_hop(recipient, bool(data.get("for_clinician")), self._backup_of(recipient))
        if hop is not None:
            await self._forward(data, hop)
        return "updated" if held else "no_code"

    def _backup_of(self, recipient: str) -> str | None:
        if recipient.startswith("director:"):
            return None
        clinician = self.context.clinicians.get(recipient.encode()) or {}
        backup = clinician.get("backup_clinician_id")
        return str(backup) if backup else None

    async def _page(self, data: Mapping[str, Any]) -> str:
        role = Role(data["role"])
        recipient: str = data["recipient"]
        director = self._director(data)
        hop = backup_hop(
            role, recipient, bool(data.get("for_clinician")), self._backup_of(recipient), director
        )
        if hop is not None:
            await self._forward(data, hop)
            return "forwarded"
        phone = self._phone(recipient, data["clinic_id"])
        if phone is None:
            await self._audit(data, "notified", recipient, role, "no phone on file; not sent")
            await self._warn_unknown_clinician(recipient, data["clinic_id"], data["at"])
            hop = unreachable_hop(role, director)
            if hop is not None:
                await self._forward(data, hop)
            else:
                await self._confirm(data)  # nobody left to try: stop the desk's retries
            return "no_phone"
        code = self._code_for(recipient, data)
        clinic = self.clinics.get(data["clinic_id"])
        body = render(
            ClinicianTemplate.ALERT,
            _LANGUAGE,
            clinic_name=clinic.display_name,
            patient_ref=patient_ref(data["patient_id"]),
            priority=data["priority"],
            kind_label=kind_label(data["kind"]),
            code=code,
            escalated_from=_ESCALATED_FROM.get(role) if data["step"] else None,
        )
        await self._text(
            f"{data['notification_id']}:{recipient}",
            recipient,
            phone,
            body,
            data["at"],
            urgent=data["priority"] == "P1",
        )
        action = "escalated" if data["step"] else "notified"
        await self._audit(data, action, recipient, role)
        await self._confirm(data)
        self.context.metrics.alert_actions.labels("paged").inc()
        return "paged"

    async def _confirm(self, data: Mapping[str, Any]) -> None:
        """Tell the desk this page went out, so it stops asking again."""
        confirmation = {
            "action_id": f"confirm:{data['notification_id']}",
            "type": "page_confirmed",
            "alert_id": data["alert_id"],
            "patient_id": data["patient_id"],
            "notification_id": data["notification_id"],
            "actor": "system",
            "via": "stream",
            "at": data["at"],
        }
        await self.context.publish(ALERT_ACTIONS, confirmation, data["patient_id"].encode())

    async def _forward(self, data: Mapping[str, Any], hop: Hop) -> None:
        value = {**data, "recipient": hop.recipient, "role": hop.role.value}
        if hop.for_clinician:
            value["for_clinician"] = hop.for_clinician
        await self.context.publish(ALERT_NOTIFICATIONS, value, hop.recipient.encode())

    async def _warn_unknown_clinician(self, recipient: str, clinic_id: str, at: str) -> None:
        """A clinician without a record: the same warning intake raises at registration
        (docs/operators.md, "Operator warnings"), for a record removed since."""
        if not recipient.startswith("director:"):
            await raise_warning(
                self.context,
                WarningKind.UNKNOWN_CLINICIAN,
                clinic_id,
                recipient,
                at=at,
                source_topic=ALERT_NOTIFICATIONS,
            )

    def _director(self, data: Mapping[str, Any]) -> str:
        return self.clinics.director_key(data["clinic_id"])

    def _phone(self, recipient: str, clinic_id: str) -> str | None:
        if recipient.startswith("director:"):
            return self.clinics.get(clinic_id).medical_director.phone
        clinician = self.context.clinicians.get(recipient.encode())
        return None if clinician is None else str(clinician["phone"])

    def _code_for(self, recipient: str, data: Mapping[str, Any]) -> str:
        key = recipient.encode()
        codes: dict[str, Any] = dict(self.codes.get(key) or {})
        for code, held in codes.items():
            if held["alert_id"] == data["alert_id"]:
                return code
        # Alerts are resolved within days; a code this old only keeps a fresh one from
        # being free (a missed `alert_status`, a desk record aged out).
        oldest = datetime.fromisoformat(data["at"]) - _CODE_LIFETIME
        codes = {c: h for c, h in codes.items() if datetime.fromisoformat(h["paged_at"]) > oldest}
        code = ack_code_for(data["alert_id"], codes)
        codes[code] = {
            "alert_id": data["alert_id"],
            "patient_id": data["patient_id"],
            "state": "open",
            "paged_at": data["at"],
        }
        self.codes[key] = codes
        return code

    # -- acknowledgments -------------------------------------------------------------------

    async def handle_text(self, event: Any) -> str:
        data = self.context.decode(SMS_CLINICIAN_INBOUND, event)
        recipient: str = data["recipient"]
        reply = parse_clinician_reply(data["body"])
        codes: dict[str, Any] = self.codes.get(recipient.encode()) or {}
        held = codes.get(reply.code) if reply.code else None
        if reply.kind is ReplyKind.ACK and held is not None:
            action = {
                "action_id": f"sms:{data['message_sid']}",
                "type": "acknowledge",
                "alert_id": held["alert_id"],
                "patient_id": held["patient_id"],
                "actor": actor_for(recipient),
                "via": "sms",
                "code": reply.code,
                "at": data["received_at"],
            }
            await self.context.publish(ALERT_ACTIONS, action, held["patient_id"].encode())
            return "ack"
        if reply.kind is ReplyKind.HELP:
            body = render(ClinicianTemplate.HELP, _LANGUAGE)
        else:
            body = render(
                ClinicianTemplate.ACK_UNKNOWN,
                _LANGUAGE,
                code=reply.code,
                open_codes=_open_codes(codes),
            )
        await self._reply(recipient, f"reply:{data['message_sid']}", body, data["received_at"])
        return "unknown_code" if reply.kind is not ReplyKind.HELP else "help"

    async def _ack_result(self, data: Mapping[str, Any]) -> str:
        recipient: str = data["recipient"]
        key = recipient.encode()
        codes: dict[str, Any] = dict(self.codes.get(key) or {})
        code = data.get("code", "")
        result = data["result"]
        if code in codes:
            if result == "closed":
                del codes[code]
            else:
                codes[code] = {**codes[code], "state": "acknowledged"}
            self.codes[key] = codes
        ref = patient_ref(data.get("patient_id", ""))
        if result == "applied":
            body = render(ClinicianTemplate.ACK_CONFIRMED, _LANGUAGE, code=code, patient_ref=ref)
        elif result == "already":
            owner = "you" if data.get("owner") == "you" else "a colleague"
            body = render(
                ClinicianTemplate.ACK_ALREADY,
                _LANGUAGE,
                code=code,
                patient_ref=ref,
                owner_label=owner,
            )
        elif result == "closed":
            body = render(ClinicianTemplate.ACK_CLOSED, _LANGUAGE, code=code)
        else:
            body = render(
                ClinicianTemplate.ACK_UNKNOWN, _LANGUAGE, code=code, open_codes=_open_codes(codes)
            )
        await self._reply(recipient, data["notification_id"], body, data["at"])
        return str(result)

    async def _reply(self, recipient: str, send_key: str, body: str, at: str) -> None:
        phone = self._phone(recipient, recipient.removeprefix("director:"))
        if phone is not None:
            await self._text(send_key, recipient, phone, body, at, urgent=False)

    # -- daily digest of P3 alerts -----------------------------------------------------------

    async def _digest_item(self, partition: int, data: Mapping[str, Any]) -> str:
        recipient: str = data["recipient"]
        hop = unreachable_digest_hop(recipient, self._director(data))
        if hop is not None and self._phone(recipient, data["clinic_id"]) is None:
            # Nobody to send this clinician's digest to: the director's digest takes it.
            await self._warn_unknown_clinician(recipient, data["clinic_id"], data["at"])
            await self._audit(
                data, "notified", recipient, Role.PRIMARY, "no phone on file; to the director"
            )
            await self._forward(data, hop)
            return "forwarded"
        key = recipient.encode()
        entry = dict(self.digests.get(key) or {"items": [], "last_day": None})
        entry["partition"] = partition
        entry["clinic_id"] = data["clinic_id"]
        items = [i for i in entry["items"] if i["alert_id"] != data["alert_id"]]
        entry["items"] = [*items, {"alert_id": data["alert_id"], "patient_id": data["patient_id"]}]
        self.digests[key] = entry
        return "queued"

    async def on_tick(self, partition: int, now: datetime) -> int:
        """Send each clinician of this partition their digest once a day, at the clinic's
        digest time."""
        sent = 0
        due = [
            (key, entry)
            for key, entry in self.digests.items()
            if entry["partition"] == partition and entry["items"]
        ]
        for key, entry in due:
            clinic = self.clinics.get(entry["clinic_id"])
            local = now.astimezone(ZoneInfo(clinic.timezone))
            day = local.date().isoformat()
            if local.time() < clinic.digest_time or entry["last_day"] == day:
                continue
            recipient = key.decode()
            phone = self._phone(recipient, entry["clinic_id"])
            hop = unreachable_digest_hop(recipient, self.clinics.director_key(entry["clinic_id"]))
            if phone is None and hop is not None:
                await self._digest_to_director(recipient, entry, hop, now)
                self.digests[key] = {**entry, "items": [], "last_day": day}
                continue
            if phone is not None:
                body = render(
                    ClinicianTemplate.DIGEST,
                    _LANGUAGE,
                    clinic_name=clinic.display_name,
                    count=len({i["patient_id"] for i in entry["items"]}),
                    date=day,
                )
                await self._text(
                    f"digest:{recipient}:{day}",
                    recipient,
                    phone,
                    body,
                    now.isoformat(),
                    urgent=False,
                )
            for item in entry["items"]:
                await self._audit(
                    {
                        **item,
                        "clinic_id": entry["clinic_id"],
                        "at": now.isoformat(),
                        "priority": "P3",
                    },
                    "digested",
                    recipient,
                    Role.PRIMARY,
                    None if phone else "no phone on file; not sent",
                )
            self.digests[key] = {**entry, "items": [], "last_day": day}
            self.context.metrics.alert_actions.labels("digest").inc()
            sent += 1
        return sent

    async def _digest_to_director(
        self, recipient: str, entry: Mapping[str, Any], director: Hop, now: datetime
    ) -> None:
        """A clinician whose record was removed after items were queued for them: the items
        go to the director's digest (its next one: today's may have gone out already)."""
        await self._warn_unknown_clinician(recipient, entry["clinic_id"], now.isoformat())
        for item in entry["items"]:
            data = {
                "notification_id": f"digest_item:{item['alert_id']}:{recipient}",
                "type": "digest_item",
                "recipient": recipient,
                "alert_id": item["alert_id"],
                "patient_id": item["patient_id"],
                "clinic_id": entry["clinic_id"],
                "priority": "P3",
                "at": now.isoformat(),
            }
            await self._audit(
                data, "notified", recipient, Role.PRIMARY, "no phone on file; to the director"
            )
            await self._forward(data, director)

    # -- publishing --------------------------------------------------------------------------

    async def _text(
        self, send_key: str, recipient: str, phone: str, body: str, at: str, *, urgent: bool
    ) -> None:
        value = {
            "send_key": send_key,
            "to": phone,
            "body": body,
            "category": "clinician",
            "urgent": urgent,
            "recipient": recipient,
            "at": at,
        }
        # A replay re-sends the same text (same send key), which the sender's ledger stops.
        lane = SMS_OUTBOUND_URGENT if urgent else SMS_OUTBOUND
        await self.context.publish(lane, value, recipient.encode())

    async def _audit(
        self,
        data: Mapping[str, Any],
        action: str,
        recipient: str,
        role: Role,
        detail: str | None = None,
    ) -> None:
        value = audit_record(
            event_id=f"{data['alert_id']}:{action}:{recipient}:{data.get('step', 0)}",
            patient_id=data["patient_id"],
            clinic_id=data["clinic_id"],
            action=action,
            actor=SYSTEM,
            at=data["at"],
            alert_id=data["alert_id"],
            priority=data["priority"],
            via="timer" if data.get("step") else "stream",
            recipient=actor_for(recipient),
            role=role.value,
            kind=data.get("kind"),
            detail=detail,
        )
        await self.context.publish(AUDIT, value, data["patient_id"].encode())


def _open_codes(codes: dict[str, Any]) -> list[str]:
    return sorted(code for code, held in codes.items() if held["state"] == "open")[
        :_MAX_LISTED_CODES
    ]
