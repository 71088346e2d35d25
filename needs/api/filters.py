"""The list filters of needs, dispatches and providers (query parameters, each refused by
name when it cannot be read)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from needs.models import (
    OPEN_DISPATCH,
    Dispatch,
    DispatchStatus,
    Need,
    NeedSource,
    NeedStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceOffer,
    Urgency,
)


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is refused by name, not read as "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text in ("", "none"):
            return None
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise forms.ValidationError(_("true or false"), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class NeedFilterSet(django_filters.FilterSet):
    # distinct=False: a plain column needs no DISTINCT, which would also wrap the count.
    status = django_filters.MultipleChoiceFilter(choices=NeedStatus.choices, distinct=False)
    kind = django_filters.CharFilter(field_name="kind__code", max_length=32)
    grid = django_filters.CharFilter(field_name="grid__code", max_length=30)
    community = django_filters.NumberFilter(field_name="community_id")
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    source = django_filters.ChoiceFilter(choices=NeedSource.choices)
    overdue = StrictBooleanFilter(field_name="overdue")
    open = StrictBooleanFilter(method="filter_open", label=_("open"))
    q = django_filters.CharFilter(method="filter_q", max_length=60, label=_("title or number"))

    class Meta:
        model = Need
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.exclude(pk__in=queryset.open().values("pk"))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(number__iexact=value))


class DispatchFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DispatchStatus.choices, distinct=False)
    need = django_filters.NumberFilter(field_name="need_id")
    provider = django_filters.NumberFilter(field_name="provider_id")
    open = StrictBooleanFilter(method="filter_open", label=_("open"))

    class Meta:
        model = Dispatch
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.exclude(status__in=OPEN_DISPATCH)


class ProviderFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ProviderKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ProviderStatus.choices, distinct=False)
    community = django_filters.NumberFilter(field_name="community_id")
    offers = django_filters.CharFilter(
        method="filter_offers", max_length=32, label=_("offers this service kind")
    )
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Provider
        fields: list[str] = []

    def filter_offers(self, queryset, name, value):
        return queryset.filter(
            Exists(
                ServiceOffer.objects.filter(provider=OuterRef("pk"), kind__code=value, active=True)
            )
        )
