"""Sensors API: ingest (being built)."""

urlpatterns: list = []
