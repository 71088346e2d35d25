"""Benchmarks of sensors: fire (being built)."""

CASES: list = []
