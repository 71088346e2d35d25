"""Sensor layers of the command-centre map (being built)."""
