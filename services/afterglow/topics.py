"""The topic catalog: every topic Afterglow owns outside Faust, with its key, its schema and
its configuration. Code, the broker set-up and the docs take topic names from here.

Faust creates only its own internal topics and never alters existing ones, so partitions,
compaction and retention of the contract topics (docs/operators.md) are set from this list
by ``afterglow topics``. Changing partitions later breaks key-to-partition routing and table
co-partitioning, so drift is reported, never "fixed" behind the operator's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afterglow.config import Settings

_DAY_MS = 24 * 60 * 60 * 1000

PATIENTS = "clinic.patients"
CLINICIANS = "clinic.clinicians"
INFUSIONS_COMPLETED = "clinic.infusions.completed"
ALERTS = "alerts"
DEADLETTER = "deadletter"
AUDIT = "afterglow.audit"
TICKS = "afterglow.ticks"
CHECKINS = "afterglow.checkins"
CONSENT = "afterglow.consent"
SMS_INBOUND = "afterglow.sms.inbound"
SMS_STATUS = "afterglow.sms.status"
SMS_PATIENT_INBOUND = "afterglow.sms.patient-inbound"
SMS_OUTBOUND = "afterglow.sms.outbound"
SMS_OUTBOUND_URGENT = "afterglow.sms.outbound-urgent"
PHONE_DIRECTORY = "afterglow.phone-directory"
PHONE_VERDICTS = "afterglow.phone-verdicts"
CLINICAL_EVENTS = "afterglow.clinical-events"
ALERT_ACTIONS = "afterglow.alert-actions"
ALERT_NOTIFICATIONS = "afterglow.alert-notifications"
SMS_CLINICIAN_INBOUND = "afterglow.sms.clinician-inbound"
CLINICIAN_REFERENCES = "afterglow.clinician-references"
OPERATOR_WARNINGS = "afterglow.operator-warnings"
DEADLETTER_ACTIONS = "afterglow.deadletter-actions"

_COMPACTED = {"cleanup.policy": "compact"}


def _retention_days(days: int) -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": str(days * _DAY_MS)}


@dataclass(frozen=True)
class TopicSpec:
    """One topic: ``name`` is the contract name; the physical name is ``Settings.topic(name)``.

    ``key_fields``: the record's key is the value of the first of these fields the record
    has (tables are partitioned like their input, so a record keyed by anything else would
    put its state on the wrong partition); empty for topics without keys. ``schema``: the
    file under ``schemas/`` that every record of the topic must match.
    """

    name: str
    config: dict[str, str] = field(hash=False)
    key: str
    doc: str
    key_fields: tuple[str, ...] = ()
    schema: str = ""
    partitions: int | None = None  # None: Settings.topic_partitions (every topic today)

    def __post_init__(self) -> None:
        if not self.schema:
            object.__setattr__(self, "schema", self.name)

    def physical_name(self, settings: Settings) -> str:
        return settings.topic(self.name)

    def partitions_for(self, settings: Settings) -> int:
        return self.partitions if self.partitions is not None else settings.topic_partitions

    def key_field_of(self, record: Mapping[str, Any]) -> str | None:
        """The field whose value must be the key of `record` (None: the topic has no key)."""
        for name in self.key_fields:
            if name in record:
                return name
        return self.key_fields[0] if self.key_fields else None


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec(
        PATIENTS,
        dict(_COMPACTED),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Current record per patient (contact, timezone, consent, clinician); latest wins.",
    ),
    TopicSpec(
        CLINICIANS,
        dict(_COMPACTED),
        key="clinician_id",
        key_fields=("clinician_id",),
        doc="Current record per clinician, including the backup who covers alerts.",
    ),
    TopicSpec(
        INFUSIONS_COMPLETED,
        _retention_days(30),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Completed infusions that start a follow-up plan; kept long enough to replay.",
    ),
    TopicSpec(
        ALERTS,
        _retention_days(365),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Clinician alerts and their status changes; a year covers burden reporting.",
    ),
    TopicSpec(
        DEADLETTER,
        _retention_days(30),
        key="none (dead letters carry no key)",
        doc="Inputs that failed validation or handling, with the reason, for a human to fix.",
    ),
    TopicSpec(
        TICKS,
        _retention_days(1),
        key="none (sent to each partition explicitly)",
        doc="Clock ticks: the leader sends `now` to every partition; due check-ins follow.",
    ),
    TopicSpec(
        CHECKINS,
        _retention_days(30),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Check-in steps from the scheduler: due, reminder 1 and 2, expired.",
    ),
    TopicSpec(
        CONSENT,
        _retention_days(365),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Patient opt-out / opt-in (STOP, START) as they happen; the registry follows it.",
    ),
    TopicSpec(
        SMS_INBOUND,
        _retention_days(30),
        key="sender phone (E.164)",
        key_fields=("from",),
        doc="Texts received (Twilio webhook or simulator), as received; holds PHI.",
    ),
    TopicSpec(
        SMS_STATUS,
        _retention_days(30),
        key="MessageSid",
        key_fields=("message_sid",),
        doc="Delivery status callbacks; out of order and repeated, applied forward only.",
    ),
    TopicSpec(
        SMS_PATIENT_INBOUND,
        _retention_days(30),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Inbound texts routed to the patient's partition for the conversation.",
    ),
    TopicSpec(
        SMS_OUTBOUND,
        _retention_days(30),
        key="patient_id, or recipient for clinician texts",
        key_fields=("patient_id", "recipient"),
        doc="Texts to send, each with a deterministic send key; the sender dedupes.",
    ),
    TopicSpec(
        SMS_OUTBOUND_URGENT,
        _retention_days(30),
        key="patient_id, or recipient for clinician pages",
        key_fields=("patient_id", "recipient"),
        schema=SMS_OUTBOUND,
        doc="Crisis replies and P1 pages: the same records as sms.outbound, on a lane of "
        "their own so that they never wait behind routine check-in texts.",
    ),
    TopicSpec(
        PHONE_DIRECTORY,
        dict(_COMPACTED),
        key="phone (E.164)",
        key_fields=("phone",),
        doc="Who owns a phone number (patient or clinician), for routing inbound texts.",
    ),
    TopicSpec(
        PHONE_VERDICTS,
        dict(_COMPACTED),
        key="patient_id",
        key_fields=("patient_id",),
        doc="The directory's answer to a patient's claim of a phone: accepted or refused.",
    ),
    TopicSpec(
        CLINICAL_EVENTS,
        _retention_days(2557),
        key="patient_id",
        key_fields=("patient_id",),
        doc="The rule engine's input, in arrival order per patient: answers and assessments "
        "from conversations, enrollments and infusions from intake, expiries, opt-outs and "
        "alert resolutions.",
    ),
    TopicSpec(
        ALERT_ACTIONS,
        _retention_days(30),
        key="patient_id",
        key_fields=("patient_id",),
        doc="Clinician actions on an alert (acknowledge, resolve) from SMS, dashboard or CLI.",
    ),
    TopicSpec(
        ALERT_NOTIFICATIONS,
        _retention_days(30),
        key="recipient (clinician_id or director:<clinic_id>)",
        key_fields=("recipient",),
        doc="Pages, digest items and acknowledgment answers for one recipient's partition.",
    ),
    TopicSpec(
        SMS_CLINICIAN_INBOUND,
        _retention_days(30),
        key="recipient (clinician_id or director:<clinic_id>)",
        key_fields=("recipient",),
        doc="Texts from clinicians (ACK codes), routed to the recipient's partition.",
    ),
    TopicSpec(
        CLINICIAN_REFERENCES,
        _retention_days(30),
        key="clinician_id",
        key_fields=("clinician_id",),
        doc="A registration names this clinician: intake checks, on the clinician's "
        "partition, that the clinician has a record.",
    ),
    TopicSpec(
        OPERATOR_WARNINGS,
        dict(_COMPACTED),
        key="<kind>:<clinic_id>:<subject> (a clinician or patient id)",
        key_fields=("warning_id",),
        doc="What operators must look at (a clinician without a record, an infusion waiting "
        "for its registration); a tombstone clears a warning. Read by `afterglow warnings`.",
    ),
    TopicSpec(
        DEADLETTER_ACTIONS,
        # Longer than the dead letters themselves (30 days): who revealed a payload holding
        # PHI, or put a record back into the stream, is asked about long after.
        _retention_days(365),
        key="deadletter_id (`deadletter-<partition>-<offset>`)",
        key_fields=("deadletter_id",),
        doc="What operators did with a dead letter (revealed, republished, discarded), by "
        "whom and when; read by the dead-letter browser of the operations page.",
    ),
    TopicSpec(
        AUDIT,
        # 2557 days = 7 calendar years including leap days: outlasts the six-year retention
        # HIPAA sets for compliance documentation, yet still expires (-1 would keep PHI
        # references forever and grow without bound).
        _retention_days(7 * 365 + 2),
        key="id of the entity the entry is about (patient_id, clinician_id, ...)",
        key_fields=("patient_id",),
        doc="Internal audit trail of who saw or changed what; append-only.",
    ),
)

_BY_NAME = {spec.name: spec for spec in CATALOG}


def topic_spec(name: str) -> TopicSpec:
    """The catalog entry for a contract name (KeyError for a name not in the catalog)."""
    return _BY_NAME[name]


def compacted_spec(name: str) -> TopicSpec:
    """A compacted topic outside the catalog (Faust's table changelogs)."""
    return TopicSpec(name, dict(_COMPACTED), key="table key", doc="Faust changelog")
