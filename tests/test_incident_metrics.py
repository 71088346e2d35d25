"""Metrics and the three-colour rule (#4): closure, on-time closure, rework, satisfaction,
and how they colour a grid; the worker's jobs run the clocks and the colours."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Grid
from incidents import jobs
from incidents.models import Incident
from incidents.services import Report, report_incident
from incidents.services.metrics import colour_for, update_grid_colours
from incidents.services.transitions import Step, take_step
from tests.conftest import centre_of

RULE = {
    "days": 30,
    "min_incidents": 2,
    "red": {"on_time_rate_below": 0.5, "satisfaction_below": 3, "overdue_open": 3},
    "yellow": {"on_time_rate_below": 0.9, "satisfaction_below": 4, "overdue_open": 1},
}


def row(**values):
    return {"closed": 5, "on_time_rate": 1.0, "satisfaction": 5.0, "overdue_open": 0} | values


@pytest.mark.parametrize(
    "values,colour",
    [
        ({}, "blue"),
        ({"on_time_rate": 0.8}, "yellow"),
        ({"on_time_rate": 0.4}, "red"),
        ({"satisfaction": 3.5}, "yellow"),
        ({"satisfaction": 2.0}, "red"),
        ({"overdue_open": 1}, "yellow"),
        ({"overdue_open": 3, "closed": 0}, "red"),  # open overdue work counts without closures
        ({"on_time_rate": 0.0, "closed": 1}, "blue"),  # too few closed to judge
    ],
)
def test_the_colour_rule(values, colour):
    assert colour_for(row(**values), RULE) == colour


def test_grids_are_recoloured_from_their_incidents(tree, users, catalogue, settings):
    settings.GRIDLINE_COLOUR_RULE = RULE
    grid = tree.grids[(1, 1, 1)]
    Grid.objects.filter(pk=grid.pk).update(colour="red")
    for n in range(2):
        incident, _ = report_incident(
            Report(title=f"事件{n}", category="T0101", source="patrol", location=centre_of(grid)),
            user=users.worker,
        )
        for action in ("register", "dispatch", "acknowledge", "feed_back", "verify", "close"):
            current = Incident.objects.get(pk=incident.pk)
            if action == "close" and n == 0:
                Incident.objects.filter(pk=incident.pk).update(overdue_count=1)
                current.refresh_from_db()
            take_step(incident.pk, Step(action=action, version=current.version), user=users.worker)
        current = Incident.objects.get(pk=incident.pk)
        take_step(
            incident.pk, Step(action="assess", version=current.version, score=5), user=users.worker
        )
    # One of two closed late: on-time rate 0.5, below yellow's 0.9, not below red's 0.5.
    changed = update_grid_colours(timezone.localdate())
    assert changed == {"yellow": 1}
    assert Grid.objects.get(pk=grid.pk).colour == "yellow"
    assert set(Grid.objects.exclude(pk=grid.pk).values_list("colour", flat=True)) == {"blue"}
    assert update_grid_colours(timezone.localdate()) == {}


def test_the_worker_jobs_run_the_clocks(users, incident):
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    jobs.watch_clocks(int(timezone.now().timestamp()))
    assert Incident.objects.get(pk=incident.pk).step_overdue
