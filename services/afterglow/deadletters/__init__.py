"""The dead-letter browser's model (docs/operators.md, "Dead letters on the operations page").

``letters`` is pure: a dead letter's id, its redacted form, the clinics it concerns, and
what operators did with it. ``reader`` reads the dead-letter and actions topics. Unlike
``operations``, a dead letter's payload is patient data: only the reveal route shows it,
and only to a clinician of every clinic it names (or an admin when it names none).
"""
