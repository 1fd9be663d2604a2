"""Indexes for the patient list: patients by clinic, a patient's open alerts, sent and
answered check-ins (readmodel/patient_list.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_patients_clinic", "patients", ["clinic_id"], unique=False)
    op.create_index(
        "ix_alerts_patient_status", "alerts", ["patient_id", "status", "priority"], unique=False
    )
    op.create_index(
        "ix_checkins_patient_answered",
        "checkins",
        ["patient_id", "completed_at", "due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_checkins_patient_answered", table_name="checkins")
    op.drop_index("ix_alerts_patient_status", table_name="alerts")
    op.drop_index("ix_patients_clinic", table_name="patients")
