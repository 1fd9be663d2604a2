"""Applying the topic catalog (`afterglow.topics`) to a broker: create what is missing,
report what differs. Partitions and configs are never changed behind the operator's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError

from afterglow.config import Settings
from afterglow.topics import CATALOG, TopicSpec, compacted_spec

_ADMIN_TIMEOUT_MS = 10_000


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
    specs = {name: compacted_spec(name) for name in changelog_topics}
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
