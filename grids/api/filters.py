from __future__ import annotations

import datetime as dt

import django_filters
from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from grids.models import Colour, Grid, GridBoundary, Household, Level, Region, RegionBoundary, Theme


def parse_bbox(value: str) -> Polygon:
    """`minlon,minlat,maxlon,maxlat` in WGS84, as in OGC API - Features."""
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise ValidationError({"bbox": [_("bbox is minlon,minlat,maxlon,maxlat")]})
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise ValidationError(
            {"bbox": [_("bbox must have min < max, within -180..180 and -90..90")]}
        )
    return Polygon.from_bbox(numbers)


def parse_on(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({"on": [_("dates are YYYY-MM-DD")]}) from exc


class BoundaryFilterSet(django_filters.FilterSet):
    """Shared by regions and grids: `bbox` and `on` go through the boundary versions, where
    the spatial index is."""

    bbox = django_filters.CharFilter(method="filter_bbox", label=_("minlon,minlat,maxlon,maxlat"))
    on = django_filters.DateFilter(method="filter_on", label=_("boundaries valid on this date"))
    versions = None
    owner = None

    def filter_on(self, queryset, name, value):
        return queryset  # applied by the view, which also annotates the geometry of that date

    def filter_bbox(self, queryset, name, value):
        on = parse_on(self.data.get("on"))
        hits = self.versions.objects.valid_on(on).filter(geom__bboverlaps=parse_bbox(value))
        return queryset.filter(pk__in=hits.values(self.owner))


class RegionFilterSet(BoundaryFilterSet):
    level = django_filters.ChoiceFilter(choices=Level.choices)
    parent = django_filters.CharFilter(field_name="parent__code", label=_("parent code"))
    code = django_filters.CharFilter()
    versions = RegionBoundary
    owner = "region_id"

    class Meta:
        model = Region
        fields = ["level", "parent", "code"]


class GridFilterSet(BoundaryFilterSet):
    community = django_filters.CharFilter(field_name="community__code", label=_("community code"))
    street = django_filters.CharFilter(field_name="community__parent__code", label=_("street code"))
    theme = django_filters.ChoiceFilter(choices=Theme.choices)
    colour = django_filters.ChoiceFilter(choices=Colour.choices)
    code = django_filters.CharFilter()
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    versions = GridBoundary
    owner = "grid_id"

    class Meta:
        model = Grid
        fields = ["community", "street", "theme", "colour", "code", "q"]


class HouseholdFilterSet(django_filters.FilterSet):
    bbox = django_filters.CharFilter(method="filter_bbox", label=_("minlon,minlat,maxlon,maxlat"))
    grid = django_filters.CharFilter(field_name="grid__code", label=_("grid code"))
    flagged = django_filters.BooleanFilter(
        field_name="grid", lookup_expr="isnull", label=_("in no grid")
    )
    q = django_filters.CharFilter(field_name="address", lookup_expr="icontains")
    ordering = django_filters.OrderingFilter(fields=("id", "registered_on"))

    class Meta:
        model = Household
        fields = ["grid", "flagged", "q"]

    def filter_bbox(self, queryset, name, value):
        return queryset.filter(location__bboverlaps=parse_bbox(value))
