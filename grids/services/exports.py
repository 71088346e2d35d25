"""Exporting layers to GeoPackage, GeoJSON and (zipped) Shapefile, scoped to the user."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from django.contrib.gis.db.models.functions import AsWKB
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import (
    AuditLog,
    Building,
    Grid,
    GridBoundary,
    Household,
    Level,
    Region,
    RegionBoundary,
    Unit,
    today,
)
from grids.services.audit import log_personal_read
from grids.services.stats import household_figures

FORMATS = {
    "gpkg": ("GPKG", "application/geopackage+sqlite3", ".gpkg"),
    "geojson": ("GeoJSON", "application/geo+json", ".geojson"),
    "shp": ("ESRI Shapefile", "application/zip", ".zip"),
    "csv": ("CSV", "text/csv", ".csv"),
}
# Layers of points: a CSV carries them as X (longitude) and Y (latitude) columns a spreadsheet
# reads; the polygon layers as WKT.
POINT_LAYERS = {"households", "buildings", "units"}
REGION_LAYERS = {
    "districts": Level.DISTRICT,
    "streets": Level.STREET,
    "communities": Level.COMMUNITY,
}
LAYERS = (*REGION_LAYERS, "grids", "households", "buildings", "units")
LAYER_LABELS = {
    "districts": _("districts"),
    "streets": _("streets / towns"),
    "communities": _("communities / villages"),
    "grids": _("grids"),
    "households": _("households"),
    "buildings": _("buildings"),
    "units": _("units"),
}


class UnknownLayer(ValueError):
    pass


@dataclass
class Export:
    content: bytes
    filename: str
    content_type: str
    features: int


def layer_frame(user, layer: str, on: dt.date | None = None) -> gpd.GeoDataFrame:
    """The features of a layer the user may see, as they were on `on`."""
    on = on or today()
    if layer in REGION_LAYERS:
        regions = Region.objects.visible_to(user).valid_on(on).filter(level=REGION_LAYERS[layer])
        rows = (
            RegionBoundary.objects.valid_on(on)
            .filter(region__in=regions)
            .order_by("region__code")
            .values_list(
                "region__code", "region__name", "region__parent__code", "valid_from", AsWKB("geom")
            )
        )
        columns = ["code", "name", "parent", "valid_from"]
    elif layer == "grids":
        grids = Grid.objects.visible_to(user).valid_on(on)
        rows = (
            GridBoundary.objects.valid_on(on)
            .filter(grid__in=grids)
            .order_by("grid__code")
            .values_list(
                "grid_id",
                "grid__code",
                "grid__name",
                "grid__community__code",
                "grid__theme",
                "grid__colour",
                "valid_from",
                AsWKB("geom"),
            )
        )
        rows = list(rows)
        figures = household_figures(on, grid_ids=[r[0] for r in rows])
        rows = [(*r[1:-1], figures[r[0]].households, figures[r[0]].residents, r[-1]) for r in rows]
        columns = [
            "code",
            "name",
            "community",
            "theme",
            "colour",
            "valid_from",
            "households",
            "residents",
        ]
    elif layer == "households":
        rows = (
            Household.objects.visible_to(user)
            .existing_on(on)
            .order_by("pk")
            .values_list(
                "pk",
                "client_key",
                "address",
                "grid__code",
                "member_count",
                "registered_on",
                AsWKB("location"),
            )
        )
        # "key" lets a re-import of the exported file recognise what is already there.
        columns = ["id", "key", "address", "grid", "members", "registered"]
    elif layer == "buildings":
        rows, columns = building_rows(user, on)
    elif layer == "units":
        rows, columns = unit_rows(user, on)
    else:
        raise UnknownLayer(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}")
    rows = list(rows)
    frame = pd.DataFrame([r[:-1] for r in rows], columns=columns)
    geometry = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else []
    if "valid_from" in frame:
        frame["valid_from"] = frame["valid_from"].astype(str)
    if "registered" in frame:
        frame["registered"] = frame["registered"].astype(str)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def building_rows(user, on: dt.date):
    """Buildings at their points (a file holds one kind of geometry; the point is what keys a
    building to its grid), with the code a re-import recognises them by."""
    rows = (
        Building.objects.visible_to(user)
        .existing_on(on)
        .order_by("pk")
        .values_list(
            "pk",
            "code",
            "client_key",
            "name",
            "use",
            "floors",
            "built_year",
            "address",
            "grid__code",
            "registered_on",
            AsWKB("location"),
        )
    )
    columns = [
        "id", "code", "key", "name", "use", "floors", "built_year", "address", "grid",
        "registered",
    ]  # fmt: skip
    return rows, columns


def unit_rows(user, on: dt.date):
    """Units at their points. The legal person and the contact phone are masked for a role
    that does not see personal data (as the API shows them); an unmasked export is logged as
    a read of those units' personal data, besides the export itself."""
    rows = list(
        Unit.objects.visible_to(user)
        .existing_on(on)
        .order_by("pk")
        .values_list(
            "pk",
            "client_key",
            "name",
            "type__code",
            "type__name",
            "credit_code",
            "legal_person",
            "contact_phone",
            "employees",
            "address",
            "grid__code",
            "registered_on",
            AsWKB("location"),
        )
    )
    person, phone = 6, 7  # positions of the personal fields in a row
    if scoping.sees_personal_data(user):
        log_personal_read(
            user, "unit", [r[0] for r in rows if r[person] or r[phone]], channel="export"
        )
    else:
        rows = [
            (
                *r[:person],
                scoping.mask_name(r[person]),
                scoping.mask_phone(r[phone]),
                *r[phone + 1 :],
            )
            for r in rows
        ]
    columns = [
        "id", "key", "name", "type", "type_name", "credit_code", "legal_person", "phone",
        "employees", "address", "grid", "registered",
    ]  # fmt: skip
    return rows, columns


def export_layer(user, layer: str, fmt: str, on: dt.date | None = None) -> Export:
    if fmt not in FORMATS:
        raise UnknownLayer(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    driver, content_type, suffix = FORMATS[fmt]
    frame = layer_frame(user, layer, on)
    stem = f"gridline-{layer}-{(on or today()).isoformat()}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}{'.shp' if fmt == 'shp' else suffix}"
        kwargs = {"layer": layer} if fmt == "gpkg" else {}
        if fmt == "shp":
            kwargs["encoding"] = "UTF-8"  # written to a .cpg, so GIS tools read Chinese right
        if fmt == "csv":
            geometry = "AS_XY" if layer in POINT_LAYERS else "AS_WKT"
            # The byte order mark makes Excel read the file as UTF-8 (Chinese names intact).
            kwargs["layer_options"] = {"GEOMETRY": geometry, "WRITE_BOM": "YES"}
        pyogrio.write_dataframe(frame, path, driver=driver, **kwargs)
        if fmt == "shp":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).iterdir()):
                    archive.write(part, part.name)
            content = buffer.getvalue()
        else:
            content = path.read_bytes()
    AuditLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        action=AuditLog.Action.EXPORT,
        model=layer,
        channel="export",
        path=f"{fmt} {len(frame)} features",
    )
    return Export(content, f"{stem}{suffix}", content_type, len(frame))
