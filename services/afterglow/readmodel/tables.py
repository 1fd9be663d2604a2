"""The read model's tables (SQLAlchemy Core), kept current by the projector.

Every row is keyed by the identity of what it describes (docs/developers.md, "Read model"):
a record's ``event_id``, an alert's ``alert_id``, a text's send key or MessageSid, a
patient's ``patient_id``. Rows that hold a current state (patients, clinicians, alerts,
deliveries) carry a ``version``, text that sorts like the states it stands for; a record
only overwrites a row with a lower version, so a replay or a record read out of order
changes nothing. The migrations under ``migrations/versions`` create exactly these tables;
a test compares the two.

The read model holds PHI (phones, names, message bodies), like the topics it is built from.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    or_,
)

metadata = MetaData()

patients = Table(
    "patients",
    metadata,
    Column("patient_id", Text, primary_key=True),
    Column("clinic_id", Text),
    Column("clinician_id", Text),
    Column("display_name", Text),
    Column("phone", Text),
    Column("timezone", Text),
    Column("language", Text),
    Column("sms_consent", Boolean),
    Column("baseline_phq9", Integer),
    Column("shared_phone", Boolean),
    # Offsets in clinic.patients, zero-padded: of the registration the row holds, and of the
    # latest tombstone (the clinic removed the patient; the row stays so that the history
    # keeps its name). See `removed`.
    Column("version", Text),
    Column("removed_version", Text),
    Index("ix_patients_clinic", "clinic_id"),
)

clinicians = Table(
    "clinicians",
    metadata,
    Column("clinician_id", Text, primary_key=True),
    Column("clinic_id", Text),
    Column("name", Text),
    Column("phone", Text),
    Column("backup_clinician_id", Text),
    Column("version", Text),
    Column("removed_version", Text),
)

infusions = Table(
    "infusions",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("patient_id", Text, nullable=False),
    Column("clinic_id", Text, nullable=False),
    Column("completed_at", Text, nullable=False),
    Index("ix_infusions_patient", "patient_id"),
)

# One row per planned check-in (plan occurrence), filled in by its steps as they come:
# due, reminders, expiry (afterglow.checkins), completion and difficulty (clinical events).
checkins = Table(
    "checkins",
    metadata,
    Column("patient_id", Text, primary_key=True),
    Column("occurrence_id", Text, primary_key=True),
    Column("clinic_id", Text),
    Column("kind", Text),
    Column("planned_at", Text),
    Column("due_at", Text),
    Column("reminders", Integer),
    Column("expired_at", Text),
    Column("completed_at", Text),
    Column("incomplete_at", Text),
    Column("difficulty", Integer),
    # The patient list's overdue check-ins (readmodel/patient_list.py): the latest answer
    # and the unanswered ones since, each a seek in this index alone.
    Index("ix_checkins_patient_answered", "patient_id", "completed_at", "due_at"),
)

assessments = Table(
    "assessments",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("patient_id", Text, nullable=False),
    Column("occurrence_id", Text),
    Column("instrument", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("total", Integer),
    Column("severity", Text),
    Index("ix_assessments_patient_at", "patient_id", "at"),
)

assessment_items = Table(
    "assessment_items",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("item", Integer, primary_key=True),  # 1-based, as the questionnaire numbers them
    Column("answer", Integer),  # None: not answered
    ForeignKeyConstraint(["event_id"], ["assessments.event_id"], ondelete="CASCADE"),
)

# Every clinical event (the rule engine's input) as it came: a patient's safety answers and
# crisis texts, expiries, enrollments, resolutions. `assessments` and `checkins` hold the
# same facts in the shape screens use.
clinical_events = Table(
    "clinical_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("patient_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("occurrence_id", Text),
    Column("value", Integer),  # self_harm_item_answered: item 9; difficulty_answered
    Column("total", Integer),
    Column("severity", Text),
    Column("kind", Text),  # alert_resolved
    Column("alert_id", Text),
    Column("outcome", Text),
    Column("actor", Text),
    Index("ix_clinical_events_patient_at", "patient_id", "at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Text, primary_key=True),
    Column("patient_id", Text, nullable=False),
    Column("clinic_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("clinician_id", Text),
    Column("at", Text, nullable=False),
    Column("raised_at", Text),
    Column("changed_at", Text),
    Column("escalations", Integer),
    Column("updates", Integer),
    Column("acknowledged_by", Text),
    Column("acknowledged_at", Text),
    Column("resolved_by", Text),
    Column("resolved_at", Text),
    Column("outcome", Text),
    Column("version", Text, nullable=False),
    Index("ix_alerts_status_priority", "status", "priority"),
    Index("ix_alerts_patient", "patient_id"),
    # The patient list's most urgent open alert per patient, from the index alone.
    Index("ix_alerts_patient_status", "patient_id", "status", "priority"),
)

# What happened to an alert and who did it (afterglow.audit records that name an alert).
alert_events = Table(
    "alert_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("alert_id", Text, nullable=False),
    Column("patient_id", Text, nullable=False),
    Column("clinic_id", Text),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("kind", Text),
    Column("priority", Text),
    Column("via", Text),
    Column("recipient", Text),
    Column("role", Text),
    Column("outcome", Text),
    Column("detail", Text),
    Index("ix_alert_events_alert", "alert_id", "at"),
)

# A patient's text thread and clinicians' pages. Outbound rows are keyed by send key,
# inbound ones by MessageSid; `sms_deliveries` links a MessageSid to its send key.
sms_messages = Table(
    "sms_messages",
    metadata,
    Column("direction", Text, primary_key=True),  # "inbound" | "outbound"
    Column("message_key", Text, primary_key=True),  # inbound: MessageSid; outbound: send key
    Column("patient_id", Text),
    Column("recipient", Text),  # clinician texts: clinician_id or director:<clinic_id>
    Column("phone", Text),  # outbound: the number texted; inbound: the sender
    Column("category", Text),
    Column("body", Text, nullable=False),
    Column("urgent", Boolean),
    Column("at", Text, nullable=False),
    Index("ix_sms_messages_patient_at", "patient_id", "at"),
)

sms_deliveries = Table(
    "sms_deliveries",
    metadata,
    Column("message_sid", Text, primary_key=True),
    Column("send_key", Text),
    Column("patient_id", Text),
    Column("status", Text, nullable=False),
    Column("error_code", Text),
    Column("reported_at", Text, nullable=False),
    Column("version", Text, nullable=False),  # "<rank>:<status>", rank as in sms/ledger.py
    Index("ix_sms_deliveries_send_key", "send_key"),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("patient_id", Text, nullable=False),
    Column("action", Text, nullable=False),  # opt_out | opt_in
    Column("at", Text, nullable=False),
    Column("source", Text),
    Index("ix_consent_events_patient_at", "patient_id", "at"),
)

# The next offset to read per partition, written in the same transaction as the rows that
# the records before it produced (docs/developers.md, "Read model").
projector_offsets = Table(
    "projector_offsets",
    metadata,
    Column("topic", Text, primary_key=True),  # the physical name (with the topic prefix)
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)


def removed(table: Table) -> ColumnElement[bool]:
    """Whether the latest record of a registry row (patients, clinicians) is a tombstone."""
    return and_(
        table.c.removed_version.is_not(None),
        or_(table.c.version.is_(None), table.c.removed_version > table.c.version),
    )


TABLES: dict[str, Table] = {table.name: table for table in metadata.sorted_tables}
