"""Geometry literals of a filter, brought into storage (SRID 4326, longitude first).

With `filter-crs` the coordinates are that CRS's, in its axis order (EPSG:4326 is latitude
first; a Gauss-Krüger zone is northing/easting as EPSG defines it): ogc.crs converts them, as
it does for Part 4 bodies and `bbox-crs`.
"""

from __future__ import annotations

from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext as _

from ogc import crs as ogc_crs
from ogc.cql2 import nodes
from ogc.errors import OgcError


def to_storage(literal: nodes.Literal, filter_crs) -> GEOSGeometry:
    """The literal's geometry in SRID 4326, checked valid (an invalid polygon would make
    PostGIS's predicates fail or lie)."""
    target = filter_crs or ogc_crs.DEFAULT
    value = literal.value
    try:
        if isinstance(value, tuple) and value[0] == "bbox":
            geometry = ogc_crs.bbox_polygon(value[1], target, "filter")
        else:
            geometry = ogc_crs.to_storage(value, target, "filter")
    except OgcError as exc:
        raise nodes.located(exc.message, literal) from None
    except GEOSException:
        raise nodes.located(_("the geometry cannot be read"), literal) from None
    if geometry.empty:
        raise nodes.located(_("the geometry is empty"), literal)
    if not geometry.valid:
        raise nodes.located(
            _("the geometry is not valid: %(reason)s") % {"reason": geometry.valid_reason},
            literal,
        )
    if geometry.srid != ogc_crs.STORAGE_SRID:
        geometry.srid = ogc_crs.STORAGE_SRID
    return geometry
