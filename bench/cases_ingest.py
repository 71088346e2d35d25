"""Benchmarks of sensors: ingest (being built)."""

CASES: list = []
