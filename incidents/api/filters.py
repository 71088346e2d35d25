from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from grids.timestamps import date_problem
from incidents.models import Incident, Level, Priority, Status

QUEUES = {
    "mine": _("waiting on me"),
    "overdue": _("overdue"),
    "whistled": _("whistled"),
    "reported": _("reported by me"),
    "open": _("open"),
}


class MomentField(IsoDateTimeField):
    """An ISO 8601 time to compare with: within the dates the platform keeps, and sent to the
    database in UTC, since PostgreSQL refuses the offsets beyond ±15:59 that Python reads."""

    def __init__(self, *args, parameter: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.parameter = parameter

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        # Checked on the date as written: the conversion below cannot leave a date's range then.
        problem = date_problem(moment.date(), self.parameter)
        if problem is not None:
            raise forms.ValidationError(problem.message, code=problem.code)
        return moment.astimezone(dt.UTC)


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


class IncidentFilterSet(django_filters.FilterSet):
    queue = django_filters.ChoiceFilter(choices=list(QUEUES.items()), method="filter_queue")
    # distinct=False: a plain column needs no DISTINCT, which would also wrap the count.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    level = django_filters.ChoiceFilter(choices=Level.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    category = django_filters.CharFilter(field_name="category__code")
    grid = django_filters.CharFilter(field_name="grid__code")
    community = django_filters.NumberFilter(field_name="community_id")
    street = django_filters.NumberFilter(field_name="street_id")
    department = django_filters.CharFilter(field_name="department__code")
    overdue = django_filters.BooleanFilter(field_name="step_overdue")
    reported_after = MomentFilter(
        field_name="reported_at", lookup_expr="gte", parameter="reported_after"
    )
    reported_before = MomentFilter(
        field_name="reported_at", lookup_expr="lt", parameter="reported_before"
    )
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("title"))

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_queue(self, queryset, name, value):
        user = self.request.user
        if value == "mine":
            return queryset.held_by(user)
        if value == "overdue":
            return queryset.overdue()
        if value == "whistled":
            return queryset.whistled_for(user)
        if value == "reported":
            return queryset.filter(reporter=user)
        return queryset.open()
