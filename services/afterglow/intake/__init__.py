"""Clinic inputs (registry and infusion events): parsing, validation and idempotent history.

Pure functions; the Faust agents in `afterglow.worker` call them and own the I/O.
"""
