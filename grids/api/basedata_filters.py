"""Filters of the 一标三实 places' lists: by grid, kind, box and text, each on a stored,
indexed column (the point's GiST index for `bbox`, the grid key for `grid`)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from grids.api.filters import parse_bbox
from grids.models import Address, Building, BuildingUse, Unit

MAX_ID = 2**31 - 1


class IdFilter(django_filters.CharFilter):
    """An id in a query (`?building=12`): ASCII digits within the column's range, else a 400
    naming the parameter (a NumberFilter passes 1e400 or 10**20 on to the database)."""

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        if not (value.isascii() and value.isdecimal()) or int(value) > MAX_ID:
            raise ValidationError(
                {self.field_name.removesuffix("_id"): [_("an id is a whole number")]}
            )
        return queryset.filter(**{self.field_name: int(value)})


class PlaceFilterSet(django_filters.FilterSet):
    bbox = django_filters.CharFilter(method="filter_bbox", label=_("minlon,minlat,maxlon,maxlat"))
    grid = django_filters.CharFilter(field_name="grid__code", label=_("grid code"))
    flagged = django_filters.BooleanFilter(method="filter_flagged", label=_("in no grid"))

    def filter_bbox(self, queryset, name, value):
        return queryset.filter(location__bboverlaps=parse_bbox(value))

    def filter_flagged(self, queryset, name, value):
        located = Q(location__isnull=False)
        return queryset.filter(located & Q(grid__isnull=value))


class BuildingFilterSet(PlaceFilterSet):
    use = django_filters.ChoiceFilter(choices=BuildingUse.choices)
    code = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_q", label=_("name, address or code contains"))

    class Meta:
        model = Building
        fields = ["grid", "flagged", "use", "code", "q"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(address__icontains=value) | Q(code__icontains=value)
        )


class UnitFilterSet(PlaceFilterSet):
    type = django_filters.CharFilter(
        method="filter_type", label=_("unit type code (a 大类 includes its 小类)")
    )
    building = IdFilter(field_name="building_id", label=_("building id"))
    q = django_filters.CharFilter(method="filter_q", label=_("name or address contains"))

    class Meta:
        model = Unit
        fields = ["grid", "flagged", "type", "building", "q"]

    def filter_type(self, queryset, name, value):
        return queryset.filter(Q(type__code=value) | Q(type__parent__code=value))

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))


class AddressFilterSet(PlaceFilterSet):
    community = django_filters.CharFilter(field_name="community__code", label=_("community code"))
    building = IdFilter(field_name="building_id", label=_("building id"))
    located = django_filters.BooleanFilter(
        field_name="location", lookup_expr="isnull", exclude=True, label=_("has a point")
    )
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains")

    class Meta:
        model = Address
        fields = ["grid", "flagged", "community", "building", "located", "q"]
