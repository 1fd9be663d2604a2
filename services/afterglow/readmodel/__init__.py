"""The read model: SQL tables the dashboards read, kept current from Kafka by the projector
(docs/developers.md, "Read model").

``tables`` (the schema), ``upserts`` (idempotent row writes), ``projection`` (pure: records
to upserts), ``database`` (engine, migrations, offsets), ``projector`` (the process).
"""
