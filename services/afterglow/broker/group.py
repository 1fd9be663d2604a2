"""Restarting a worker after a crash: let the dead incarnation leave the group first.

A worker killed without leaving stays a member of its consumer group until its session
times out. A new worker that joins meanwhile gets a first assignment, then a second once
the dead member is dropped. In one measured run across such a double rebalance the
restarted Faust 0.15 worker never processed 44 consecutive offsets of a partition (the
records were in Kafka; the consumer moved past them). Each worker therefore has a client
id of its own (app, host, web port: one worker per data dir) and, at start, waits until no
member with that id is left, so a restart is one rebalance, not two.

This is not the whole answer: records were also skipped in a run with a single rebalance,
so what must not be lost (clinician pages) is confirmed end to end and re-sent until
confirmed (see `worker/alert_desk.py`).
"""

from __future__ import annotations

import logging
import re
import socket
import time

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from afterglow.config import Settings

log = logging.getLogger(__name__)


def worker_client_id(settings: Settings) -> str:
    raw = f"{settings.app_id}-{socket.gethostname()}-{settings.worker_web_port}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


def predecessors(admin: KafkaAdminClient, group_id: str, client_id: str) -> int:
    """Members of `group_id` that carry `client_id`."""
    described = admin.describe_groups([group_id])
    group = described.get(group_id) if isinstance(described, dict) else None
    members = (group or {}).get("members") or []
    return sum(1 for member in members if member.get("client_id") == client_id)


def wait_for_predecessor(settings: Settings, session_timeout: float) -> float:
    """Block until this worker's previous incarnation has left its group (at most the
    session timeout and a margin); returns the seconds waited."""
    client_id = worker_client_id(settings)
    started = time.monotonic()
    deadline = started + session_timeout + 5
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers, client_id=f"{client_id}-admin"
        )
    except KafkaError as error:
        log.warning("could not check the consumer group: %s", type(error).__name__)
        return 0.0
    try:
        announced = False
        while time.monotonic() < deadline:
            if not predecessors(admin, settings.app_id, client_id):
                break
            if not announced:
                log.info(
                    "waiting for this worker's previous run to leave group %s", settings.app_id
                )
                announced = True
            time.sleep(1)
    except KafkaError as error:
        log.warning("could not check the consumer group: %s", type(error).__name__)
    finally:
        admin.close()
    return time.monotonic() - started
