"""Sensors API: alerts (being built)."""

urlpatterns: list = []
