"""Operator warnings: what operators must look at, on a compacted topic (docs/operators.md,
"Operator warnings")."""
