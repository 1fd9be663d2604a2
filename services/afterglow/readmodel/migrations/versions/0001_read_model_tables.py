"""The read model's first tables (readmodel/tables.py at the time).

Revision ID: 0001
Revises:
Create Date: 2026-12-03 04:00:38.154625
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("priority", sa.Text(), nullable=True),
        sa.Column("via", sa.Text(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_alert_events_alert", "alert_events", ["alert_id", "at"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("clinician_id", sa.Text(), nullable=True),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.Text(), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=True),
        sa.Column("updates", sa.Integer(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_alerts_patient", "alerts", ["patient_id"], unique=False)
    op.create_index("ix_alerts_status_priority", "alerts", ["status", "priority"], unique=False)

    op.create_table(
        "assessments",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("occurrence_id", sa.Text(), nullable=True),
        sa.Column("instrument", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_assessments_patient_at", "assessments", ["patient_id", "at"], unique=False)

    op.create_table(
        "checkins",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("occurrence_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("planned_at", sa.Text(), nullable=True),
        sa.Column("due_at", sa.Text(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=True),
        sa.Column("expired_at", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.Text(), nullable=True),
        sa.Column("incomplete_at", sa.Text(), nullable=True),
        sa.Column("difficulty", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("patient_id", "occurrence_id"),
    )
    op.create_table(
        "clinicians",
        sa.Column("clinician_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("backup_clinician_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("removed_version", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("clinician_id"),
    )
    op.create_table(
        "consent_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        "ix_consent_events_patient_at", "consent_events", ["patient_id", "at"], unique=False
    )

    op.create_table(
        "infusions",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_infusions_patient", "infusions", ["patient_id"], unique=False)

    op.create_table(
        "patients",
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("clinic_id", sa.Text(), nullable=True),
        sa.Column("clinician_id", sa.Text(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("sms_consent", sa.Boolean(), nullable=True),
        sa.Column("baseline_phq9", sa.Integer(), nullable=True),
        sa.Column("shared_phone", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("removed_version", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "projector_offsets",
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition"),
    )
    op.create_table(
        "sms_deliveries",
        sa.Column("message_sid", sa.Text(), nullable=False),
        sa.Column("send_key", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("message_sid"),
    )
    op.create_index("ix_sms_deliveries_send_key", "sms_deliveries", ["send_key"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("message_key", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=True),
        sa.Column("at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("direction", "message_key"),
    )
    op.create_index(
        "ix_sms_messages_patient_at", "sms_messages", ["patient_id", "at"], unique=False
    )

    op.create_table(
        "clinical_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("occurrence_id", sa.Text(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        "ix_clinical_events_patient_at", "clinical_events", ["patient_id", "at"], unique=False
    )

    op.create_table(
        "assessment_items",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["assessments.event_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "item"),
    )


def downgrade() -> None:
    op.drop_table("assessment_items")
    op.drop_index("ix_clinical_events_patient_at", table_name="clinical_events")
    op.drop_table("clinical_events")
    op.drop_index("ix_sms_messages_patient_at", table_name="sms_messages")

    op.drop_table("sms_messages")
    op.drop_index("ix_sms_deliveries_send_key", table_name="sms_deliveries")

    op.drop_table("sms_deliveries")
    op.drop_table("projector_offsets")
    op.drop_table("patients")
    op.drop_index("ix_infusions_patient", table_name="infusions")

    op.drop_table("infusions")
    op.drop_index("ix_consent_events_patient_at", table_name="consent_events")

    op.drop_table("consent_events")
    op.drop_table("clinicians")
    op.drop_table("checkins")
    op.drop_index("ix_assessments_patient_at", table_name="assessments")

    op.drop_table("assessments")
    op.drop_index("ix_alerts_status_priority", table_name="alerts")
    op.drop_index("ix_alerts_patient", table_name="alerts")

    op.drop_table("alerts")
    op.drop_index("ix_alert_events_alert", table_name="alert_events")

    op.drop_table("alert_events")
