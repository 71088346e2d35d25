"""Serializer fields that more than one app's API uses. They live in the core so that every
app (and the core's own OpenAPI extensions in `grids.api.schema`) can name them without
importing a feature app."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from grids import timestamps
from grids.limits import lonlat_problem


class PointField(GeometryField):
    """A GeoJSON point in WGS84 (documented as such in the OpenAPI schema). Written from the
    coordinates directly: GeometryField goes through GDAL's JSON writer and builds a spatial
    reference per row, most of a queue page's time."""

    def to_representation(self, value):
        if value is None:
            return None
        return {"type": "Point", "coordinates": [round(value.x, 7), round(value.y, 7)]}

    def to_internal_value(self, value):
        try:
            geometry = super().to_internal_value(value)
        except DjangoValidationError:
            # rest_framework_gis passes GDAL's own English text on ("Invalid geometry pointer
            # returned from OGR_G_CreateGeometryFromJson" for NaN coordinates): ours instead.
            raise serializers.ValidationError(_("a GeoJSON point"), code="invalid") from None
        if geometry.geom_type != "Point":
            raise serializers.ValidationError(_("a GeoJSON point"), code="not_a_point")
        # Every point the platform accepts is finite, in degrees and in range (one rule,
        # grids.limits.lonlat_problem): [999, 999] or 1e400 is refused, not stored.
        found = lonlat_problem(geometry.x, geometry.y)
        if found:
            name, problem = found
            raise serializers.ValidationError(f"{name} {problem}", code="out_of_range")
        return geometry


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id to a place the caller may see: any other id is "does not exist",
    the answer for one that does not (decision 4: nothing outside the jurisdiction is named)."""

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        if request is None:
            return queryset.none()
        return queryset.visible_to(request.user)


class MomentField(serializers.DateTimeField):
    """A date and time a client sends about something that happened: not before the
    platform's earliest date, not ahead of the server beyond the clock skew
    (grids.timestamps). A value far out of range is refused before DRF's time zone
    arithmetic, which overflows on 0001-01-01 and 9999-12-31. `limit_future=False` leaves
    the near future to the service (devices have their own clock rule)."""

    def __init__(self, *, limit_future: bool = True, **kwargs):
        self.limit_future = limit_future
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        field = self.field_name or "time"
        shown = str(value)[:40]
        year = _year_of(value)
        if year is not None and year < timestamps.earliest_date().year - 1:
            raise _refusal(timestamps.too_early(field, shown))
        if year is not None and year > timestamps.LATEST_YEAR:
            raise _refusal(timestamps.in_the_future(field, shown))
        moment = super().to_internal_value(value)
        problem = timestamps.moment_problem(moment, field, shown=shown)
        if problem is not None and (self.limit_future or problem.code != "in_the_future"):
            raise _refusal(problem)
        return moment


class PlannedDateField(serializers.DateField):
    """A day a client plans for (a task's due date): within the years the platform keeps
    and plans for (grids.timestamps.date_problem), so 9999-12-31 is refused, not stored
    where every later "days left" sum would overflow."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        problem = timestamps.date_problem(day, self.field_name or "date")
        if problem is not None:
            raise _refusal(problem)
        return day


def _year_of(value) -> int | None:
    if isinstance(value, str):
        match = re.match(r"\s*(\d{4})-\d\d-\d\d", value)
        return int(match.group(1)) if match else None
    return getattr(value, "year", None)


def _refusal(problem) -> serializers.ValidationError:
    return serializers.ValidationError(problem.message, code=problem.code)
