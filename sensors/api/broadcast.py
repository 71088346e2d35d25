"""Sensors API: broadcast (being built)."""

urlpatterns: list = []
