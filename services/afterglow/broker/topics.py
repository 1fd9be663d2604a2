"""The topic catalog: every topic Afterglow owns outside Faust, created with its configuration.

Faust creates only its own internal topics and never alters existing ones, so partitions,
compaction and retention of the contract topics (contract.md §2) are set here, once, by
``afterglow topics``. Changing partitions later breaks key-to-partition routing and table
co-partitioning, so drift is reported, never "fixed" behind the operator's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError

from afterglow.config import Settings

_DAY_MS = 24 * 60 * 60 * 1000
_ADMIN_TIMEOUT_MS = 10_000

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
CLINICAL_EVENTS = "afterglow.clinical-events"
ALERT_ACTIONS = "afterglow.alert-actions"
ALERT_NOTIFICATIONS = "afterglow.alert-notifications"
SMS_CLINICIAN_INBOUND = "afterglow.sms.clinician-inbound"

_COMPACTED = {"cleanup.policy": "compact"}


def _retention_days(days: int) -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": str(days * _DAY_MS)}


@dataclass(frozen=True)
class TopicSpec:
    """One topic: ``name`` is the contract name; the physical name is ``Settings.topic(name)``."""

    name: str
    partitions: int | None  # None: Settings.topic_partitions (the same for every topic today)
    config: dict[str, str] = field(hash=False)
    key: str
    doc: str

    def physical_name(self, settings: Settings) -> str:
        return settings.topic(self.name)

    def partitions_for(self, settings: Settings) -> int:
        return self.partitions if self.partitions is not None else settings.topic_partitions


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec(
        PATIENTS,
        None,
        dict(_COMPACTED),
        key="patient_id",
        doc="Current record per patient (contact, timezone, consent, clinician); latest wins.",
    ),
    TopicSpec(
        CLINICIANS,
        None,
        dict(_COMPACTED),
        key="clinician_id",
        doc="Current record per clinician, including the backup who covers alerts.",
    ),
    TopicSpec(
        INFUSIONS_COMPLETED,
        None,
        _retention_days(30),
        key="patient_id",
        doc="Completed infusions that start a follow-up plan; kept long enough to replay.",
    ),
    TopicSpec(
        ALERTS,
        None,
        _retention_days(365),
        key="patient_id",
        doc="Clinician alerts and their status changes; a year covers burden reporting.",
    ),
    TopicSpec(
        DEADLETTER,
        None,
        _retention_days(30),
        key="none (dead letters carry no key)",
        doc="Inputs that failed validation or handling, with the reason, for a human to fix.",
    ),
    TopicSpec(
        TICKS,
        None,
        _retention_days(1),
        key="none (sent to each partition explicitly)",
        doc="Clock ticks: the leader sends `now` to every partition; due check-ins follow.",
    ),
    TopicSpec(
        CHECKINS,
        None,
        _retention_days(30),
        key="patient_id",
        doc="Check-in steps from the scheduler: due, reminder 1 and 2, expired.",
    ),
    TopicSpec(
        CONSENT,
        None,
        _retention_days(365),
        key="patient_id",
        doc="Patient opt-out / opt-in (STOP, START) as they happen; the registry follows it.",
    ),
    TopicSpec(
        SMS_INBOUND,
        None,
        _retention_days(30),
        key="sender phone (E.164)",
        doc="Texts received (Twilio webhook or simulator), as received; holds PHI.",
    ),
    TopicSpec(
        SMS_STATUS,
        None,
        _retention_days(30),
        key="MessageSid",
        doc="Delivery status callbacks; out of order and repeated, applied forward only.",
    ),
    TopicSpec(
        SMS_PATIENT_INBOUND,
        None,
        _retention_days(30),
        key="patient_id",
        doc="Inbound texts routed to the patient's partition for the conversation.",
    ),
    TopicSpec(
        SMS_OUTBOUND,
        None,
        _retention_days(30),
        key="patient_id",
        doc="Texts to send, each with a deterministic send key; the sender dedupes.",
    ),
    TopicSpec(
        SMS_OUTBOUND_URGENT,
        None,
        _retention_days(30),
        key="patient_id, or recipient for clinician pages",
        doc="Crisis replies and P1 pages: the same records as sms.outbound, on a lane of "
        "their own so that they never wait behind routine check-in texts.",
    ),
    TopicSpec(
        PHONE_DIRECTORY,
        None,
        dict(_COMPACTED),
        key="phone (E.164)",
        doc="Who owns a phone number (patient or clinician), for routing inbound texts.",
    ),
    TopicSpec(
        CLINICAL_EVENTS,
        None,
        _retention_days(2557),
        key="patient_id",
        doc="The rule engine's input, in arrival order per patient: answers and assessments "
        "from conversations, enrollments and infusions from intake, expiries, opt-outs and "
        "alert resolutions.",
    ),
    TopicSpec(
        ALERT_ACTIONS,
        None,
        _retention_days(30),
        key="patient_id",
        doc="Clinician actions on an alert (acknowledge, resolve) from SMS, dashboard or CLI.",
    ),
    TopicSpec(
        ALERT_NOTIFICATIONS,
        None,
        _retention_days(30),
        key="recipient (clinician_id or director:<clinic_id>)",
        doc="Pages, digest items and acknowledgment answers for one recipient's partition.",
    ),
    TopicSpec(
        SMS_CLINICIAN_INBOUND,
        None,
        _retention_days(30),
        key="recipient (clinician_id or director:<clinic_id>)",
        doc="Texts from clinicians (ACK codes), routed to the recipient's partition.",
    ),
    TopicSpec(
        AUDIT,
        None,
        # 2557 days = 7 calendar years including leap days: outlasts the six-year retention
        # HIPAA sets for compliance documentation, yet still expires (-1 would keep PHI
        # references forever and grow without bound).
        _retention_days(7 * 365 + 2),
        key="id of the entity the entry is about (patient_id, clinician_id, ...)",
        doc="Internal audit trail of who saw or changed what; append-only.",
    ),
)


def topic_spec(name: str) -> TopicSpec:
    """The catalog entry for a contract name (KeyError for a name not in the catalog)."""
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise KeyError(name)


class TopicError(RuntimeError):
    """The catalog could not be applied (broker unreachable, creation refused)."""


@dataclass(frozen=True)
class Mismatch:
    """An existing topic that differs from the catalog in something Faust relies on."""

    topic: str  # physical name
    setting: str  # "partitions" or a topic config key
    expected: str
    actual: str

    def describe(self) -> str:
        if self.setting == "partitions":
            return (
                f"topic {self.topic} has {self.actual} partitions, the catalog expects "
                f"{self.expected}: recreate it or set AFTERGLOW_TOPIC_PARTITIONS={self.actual}"
            )
        return (
            f"topic {self.topic} has {self.setting}={self.actual}, the catalog expects "
            f"{self.setting}={self.expected}: recreate it or alter its config"
        )


@dataclass
class EnsureReport:
    """What ``ensure_topics`` did, by physical topic name."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    mismatched: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatched

    def problems(self) -> list[str]:
        """One line per mismatch, ready to print."""
        return [mismatch.describe() for mismatch in self.mismatched]


def ensure_topics(settings: Settings, admin: Any = None) -> EnsureReport:
    """Create the catalog's missing topics; check existing ones. Re-running changes nothing.

    ``admin`` is a ``kafka.KafkaAdminClient`` to reuse; without one a client is opened on
    ``settings.kafka_bootstrap_servers`` and closed again.
    """
    if admin is not None:
        return _ensure(settings, admin)
    client = connect_admin(settings)
    try:
        return _ensure(settings, client)
    finally:
        client.close()


def connect_admin(settings: Settings) -> Any:
    """A ``KafkaAdminClient``, or a TopicError that says where we looked."""
    try:
        return KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.app_id}-topics",
            bootstrap_timeout_ms=_ADMIN_TIMEOUT_MS,
            request_timeout_ms=_ADMIN_TIMEOUT_MS,
        )
    except KafkaError as exc:
        raise TopicError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers} ({type(exc).__name__}): "
            "start the local one with `afterglow broker start` or set KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


def _ensure(settings: Settings, admin: Any) -> EnsureReport:
    report = EnsureReport()
    wanted = {spec.physical_name(settings): spec for spec in CATALOG}
    existing = set(admin.list_topics()) & wanted.keys()
    missing = [name for name in wanted if name not in existing]
    if missing:
        # Another process may create the same topic between list and create; that is fine.
        raced = _create(settings, admin, {name: wanted[name] for name in missing})
        existing |= raced
        report.created.extend(name for name in missing if name not in raced)
    if existing:
        present = [name for name in wanted if name in existing]
        mismatches = _check(settings, admin, {name: wanted[name] for name in present})
        report.mismatched.extend(mismatches)
        drifted = {mismatch.topic for mismatch in mismatches}
        report.unchanged.extend(name for name in present if name not in drifted)
    return report


def _create(settings: Settings, admin: Any, specs: Mapping[str, TopicSpec]) -> set[str]:
    """Create the topics; return those that turned out to exist already."""
    request = {
        name: {
            "num_partitions": spec.partitions_for(settings),
            "replication_factor": settings.topic_replication,
            "configs": dict(spec.config),
        }
        for name, spec in specs.items()
    }
    response = admin.create_topics(request, raise_errors=False)
    raced: set[str] = set()
    failures: list[str] = []
    for result in response["topics"]:
        code = result["error_code"]
        if code == 0:
            continue
        if code == TopicAlreadyExistsError.errno:
            raced.add(result["name"])
        else:
            failures.append(f"{result['name']}: {result['error_message'] or f'error {code}'}")
    if failures:
        raise TopicError("could not create topics: " + "; ".join(failures))
    created = [name for name in specs if name not in raced]
    if created:
        # Creation is acknowledged before every partition has a leader; a consumer started
        # right after `afterglow topics` would otherwise see UNKNOWN_TOPIC_OR_PARTITION.
        admin.wait_for_topics(created, timeout_ms=_ADMIN_TIMEOUT_MS)
    return raced


def _check(settings: Settings, admin: Any, specs: Mapping[str, TopicSpec]) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
    partitions = _partition_counts(admin, specs)
    for name, spec in specs.items():
        expected = spec.partitions_for(settings)
        if partitions[name] != expected:
            mismatches.append(Mismatch(name, "partitions", str(expected), str(partitions[name])))
    actual_configs = _topic_configs(admin, specs)
    for name, spec in specs.items():
        for key, expected_value in spec.config.items():
            actual_value = actual_configs.get(name, {}).get(key)
            if actual_value != expected_value:
                mismatches.append(Mismatch(name, key, expected_value, str(actual_value)))
    return mismatches


def _partition_counts(admin: Any, names: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for topic in admin.describe_topics(list(names)):
        if topic["error_code"] != 0:
            raise TopicError(
                f"could not describe topic {topic['name']}: error {topic['error_code']}"
            )
        counts[topic["name"]] = len(topic["partitions"])
    return counts


def _topic_configs(admin: Any, specs: Mapping[str, TopicSpec]) -> dict[str, dict[str, str]]:
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, list(spec.config))
        for name, spec in specs.items()
    ]
    # "all", not the default "modified": a topic left at the broker default (e.g. a
    # cleanup.policy of delete) must show up as a value, not as a missing key.
    described = admin.describe_configs(resources, config_filter="all")
    return {
        name: {key: entry["value"] for key, entry in configs.items()}
        for name, configs in described.get("topic", {}).items()
    }


def ensure_changelog_topics(settings: Settings, changelog_topics: Iterable[str]) -> list[str]:
    """Create Faust's table changelogs before the worker starts (returns those created).

    Faust would create them itself, but on a busy broker its first metadata read can see a
    half-created changelog and fail the first write with PartitionsMismatch. Created here,
    they have the catalog's partition count and compaction and all their leaders.
    """
    specs = {
        name: TopicSpec(name, None, dict(_COMPACTED), key="table key", doc="Faust changelog")
        for name in changelog_topics
    }
    admin = connect_admin(settings)
    try:
        existing = set(admin.list_topics())
        missing = {name: spec for name, spec in specs.items() if name not in existing}
        if not missing:
            return []
        raced = _create(settings, admin, missing)
        return [name for name in missing if name not in raced]
    finally:
        admin.close()
