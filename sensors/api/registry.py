"""Sensors API: registry (being built)."""

urlpatterns: list = []
