"""What every write of a place (building, unit, standard address) does: the point keyed to
its grid under the shared tree lock, the writer's jurisdiction checked, a resend recognised
by its client key, past-dated effects announced (grids.changes), and field checks that name
the field and the value."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point, Polygon
from django.utils.translation import gettext as _

from grids import sql
from grids.changes import data_changed_since
from grids.models import SRID, Grid, today
from grids.problems import Problem, ProblemsError

# The module, not its names: households checks residents' tags with this package.
from grids.services import households

# China's extent with a margin: a point outside it has its coordinates swapped or is in a
# projected CRS read as degrees.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


def key_point(location: Point, user=None) -> Grid | None:
    """The grid `location` lies in (None: kept and flagged), with the tree locked shared
    until the caller's transaction ends, so that a boundary change cannot re-key between the
    lookup and the write. Call inside transaction.atomic."""
    sql.lock_tree(shared=True)
    grid = households.grid_for_point(location)
    households.check_in_jurisdiction(user, grid)
    return grid


def resent(model, existing, user):
    """A resend answers with the row it made; a key another jurisdiction's row already
    carries is a conflict, never a way to learn about that row."""
    if user is not None and not model.objects.visible_to(user).filter(pk=existing.pk).exists():
        raise ProblemsError(
            [Problem("key_conflict", _("this client key is already in use"), field="client_key")]
        )
    return existing


def announce_past(subject: str, *days: dt.date | None) -> None:
    """Past-day figures of `subject` change from the earliest of `days` when it is before
    today (grids.changes: sent on commit)."""
    past = [day for day in days if day is not None]
    if past:
        data_changed_since(subject, min(past))


def announce_dates(subject: str, before: dict, after: dict) -> None:
    """An existence date (registered_on, removed_on) moved changes the figures from the
    earlier of the old and the new date on, when that is in the past."""
    days = []
    for name in ("registered_on", "removed_on"):
        if before.get(name) != after.get(name):
            days += [before.get(name), after.get(name)]
    announce_past(subject, *days)


class Checks:
    """Collects a row's problems, each with its field and value."""

    def __init__(self, row: int | None = None):
        self.row = row
        self.problems: list[Problem] = []

    def add(self, code: str, message: str, field: str, value=None) -> None:
        self.problems.append(
            Problem(
                code,
                message,
                row=self.row,
                field=field,
                value=None if value is None else str(value)[:200],
            )
        )

    def raise_any(self) -> None:
        if self.problems:
            raise ProblemsError(self.problems)

    def text(self, fields: dict, name: str, limit: int, *, required: bool = False) -> None:
        value = fields.get(name)
        value = "" if value is None else str(value).strip()
        fields[name] = value
        if required and not value:
            self.add("missing_value", _("%(field)s is required") % {"field": name}, name)
        elif len(value) > limit:
            self.add(
                "too_long",
                _("%(n)d characters, at most %(max)d") % {"n": len(value), "max": limit},
                name,
                value,
            )

    def integer(self, fields: dict, name: str, low: int, high: int) -> None:
        value = fields.get(name)
        if value in (None, ""):
            fields[name] = None
            return
        try:
            number = int(value)
            if number != float(value):
                raise ValueError
        except (TypeError, ValueError):
            self.add("invalid", _("not a whole number"), name, value)
            return
        if not low <= number <= high:
            self.add(
                "out_of_range",
                _("%(value)s is outside %(low)s–%(high)s")
                % {"value": number, "low": low, "high": high},
                name,
                value,
            )
            return
        fields[name] = number

    def choice(self, fields: dict, name: str, choices) -> None:
        value = fields.get(name)
        if value not in choices.values:
            self.add(
                "invalid_choice",
                _("%(value)s is not one of: %(choices)s")
                % {"value": value, "choices": ", ".join(choices.values)},
                name,
                value,
            )

    def dates(self, fields: dict) -> None:
        """registered_on (default today) and removed_on: dates, not in the future, in order."""
        fields["registered_on"] = fields.get("registered_on") or today()
        for name in ("registered_on", "removed_on"):
            value = fields.get(name)
            if value is None:
                continue
            if isinstance(value, str):
                try:
                    value = fields[name] = dt.date.fromisoformat(value)
                except ValueError:
                    self.add("invalid_date", _("not a date (YYYY-MM-DD)"), name, value)
                    continue
            if value > today():
                self.add("future_date", _("the date is in the future"), name, value)
        registered, removed = fields.get("registered_on"), fields.get("removed_on")
        if (
            isinstance(registered, dt.date)
            and isinstance(removed, dt.date)
            and removed < registered
        ):
            self.add(
                "removed_before_registered",
                _("removed before it was registered"),
                "removed_on",
                removed,
            )

    def point(self, fields: dict, name: str = "location", *, required: bool = True) -> None:
        """A Point (any SRID, stored in 4326) inside China's extent."""
        value = fields.get(name)
        if value is None:
            if required:
                self.add("missing_location", _("a location is required"), name)
            return
        geom = self.geometry(value, name)
        if geom is None:
            return
        if not isinstance(geom, Point) or geom.empty:
            self.add("invalid_geometry", _("a location is a point"), name, value)
            return
        if not (LON_RANGE[0] <= geom.x <= LON_RANGE[1] and LAT_RANGE[0] <= geom.y <= LAT_RANGE[1]):
            self.add(
                "outside_extent",
                _("%(x).6f, %(y).6f is not in China: longitude and latitude swapped?")
                % {"x": geom.x, "y": geom.y},
                name,
                f"{geom.x},{geom.y}",
            )
            return
        fields[name] = geom

    def geometry(self, value, name: str) -> GEOSGeometry | None:
        try:
            return as_geometry(value)
        except (ValueError, TypeError, GEOSException, GDALException) as error:
            self.add("invalid_geometry", _("not a geometry: %(error)s") % {"error": error}, name)
            return None

    def footprint(self, fields: dict, name: str = "footprint") -> None:
        """A Polygon or MultiPolygon, valid, stored as a MultiPolygon in 4326."""
        value = fields.get(name)
        if value is None:
            return
        geom = self.geometry(value, name)
        if geom is None:
            return
        if isinstance(geom, Polygon):
            geom = MultiPolygon(geom, srid=geom.srid)
        if not isinstance(geom, MultiPolygon) or geom.empty:
            self.add("invalid_geometry", _("a footprint is a polygon"), name, geom.geom_type)
            return
        if not geom.valid:
            self.add(
                "invalid_geometry",
                _("the footprint is not a valid polygon: %(reason)s")
                % {"reason": geom.valid_reason},
                name,
            )
            return
        fields[name] = geom


def as_geometry(value) -> GEOSGeometry:
    """A GEOS geometry in 4326 from a geometry (no SRID: taken as 4326), WKT or GeoJSON."""
    geom = value if isinstance(value, GEOSGeometry) else GEOSGeometry(str(value))
    if geom.srid is None:
        geom.srid = SRID
    elif geom.srid != SRID:
        geom = geom.transform(SRID, clone=True)
    return geom
