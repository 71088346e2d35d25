"""Figures go stale when an incident or a sensor alert is written: the screen's cache is told
after the commit (screen.services.figures.bump), so the next refresh recounts."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save

from incidents.models import Incident
from screen.services import figures
from sensors.models import SensorAlert


def _stale(sender, **kwargs) -> None:
    transaction.on_commit(figures.bump)


def connect() -> None:
    for model in (Incident, SensorAlert):
        post_save.connect(_stale, sender=model, dispatch_uid=f"screen_stale_{model.__name__}")
