"""Sensors as derived indicators of 一表通 (being built)."""
