"""`afterglow audit PATIENT_ID`: one patient's whole timeline, read back from Kafka.

``timeline`` is pure (records in, entries and text out); ``reader`` reads the topics.
"""
