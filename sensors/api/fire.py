"""Sensors API: fire (being built)."""

urlpatterns: list = []
