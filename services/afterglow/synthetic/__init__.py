"""Synthetic, clearly fictional patient histories for tests, benchmarks and demos."""
