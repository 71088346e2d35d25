"""The fast path of the place importers: the rules of the services' row checks
(grids.services.basedata) applied to whole columns at once, each giving a mask of the rows
it is sure about. A row every mask passes is written as read; any other row goes through the
service's own check, which names its problems (field, value, reason) exactly as the API and
the admin do. So the masks may be stricter than the services, never looser: a row the
service would refuse must fail a mask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from grids.models import today
from grids.services.basedata.keying import LAT_RANGE, LON_RANGE
from grids.services.imports.places import PlaceRows


class QuickRows:
    """Column checks over a file's rows; `ok` is the mask of rows passing all so far."""

    def __init__(self, read: PlaceRows):
        self.read = read
        self.n = len(read.rows)
        self.ok = np.ones(self.n, dtype=bool)
        self.values: dict[str, object] = {}

    def cell(self, name: str) -> pd.Series:
        cells = self.read.cells.get(name)
        return cells if cells is not None else pd.Series([""] * self.n, dtype=object)

    def text(self, name: str, limit: int, *, required: bool = False) -> None:
        values = self.cell(name)
        lengths = values.str.len().to_numpy()
        self.ok &= lengths <= limit
        if required:
            self.ok &= lengths > 0
        self.values[name] = values.to_numpy(object)

    def whole(self, name: str, low: int, high: int) -> None:
        """A whole number in [low, high] or empty (None)."""
        values = self.cell(name)
        numbers = pd.to_numeric(values, errors="coerce")
        digits = values.str.fullmatch(r"[+-]?\d+").to_numpy(bool)
        fits = (numbers >= low) & (numbers <= high)
        empty = (values == "").to_numpy()
        self.ok &= empty | (digits & fits.to_numpy(bool))
        self.values[name] = pd.array(numbers.where(~empty & digits), dtype="Int64")

    def mapped(self, name: str, words: dict, allowed, default) -> None:
        """A word looked up in `words` (or the value itself) that is one of `allowed`."""
        values = self.cell(name).str.strip()
        found = values.map(lambda v: words.get(v, v)).where(values != "", default)
        self.ok &= found.isin(list(allowed)).to_numpy()
        self.values[name] = found.to_numpy(object)

    def dates(self) -> None:
        """registered_on (default today) and removed_on in ISO form, not in the future, in
        order; any other spelling goes the slow way."""
        day = today()
        parsed = {}
        for name in ("registered_on", "removed_on"):
            values = self.cell(name)
            iso = values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(bool)
            dates = pd.to_datetime(values.where(iso), errors="coerce", format="%Y-%m-%d")
            empty = (values == "").to_numpy()
            not_future = (dates <= pd.Timestamp(day)).to_numpy(bool)
            good = iso & dates.notna().to_numpy() & not_future
            self.ok &= empty | good
            parsed[name] = np.array([None if pd.isna(d) else d.date() for d in dates], dtype=object)
        registered = np.where(pd.isna(parsed["registered_on"]), day, parsed["registered_on"])
        removed = parsed["removed_on"]
        has_removed = ~pd.isna(removed)
        in_order = np.ones(self.n, dtype=bool)
        in_order[has_removed] = removed[has_removed] >= registered[has_removed]
        self.ok &= in_order
        self.values["registered_on"] = registered
        self.values["removed_on"] = np.where(has_removed, removed, None)

    def place(self, *, footprints: bool) -> None:
        """A point, or (`footprints`) a valid polygon whose point on surface is the place;
        inside China's extent."""
        shapes = self.read.geometries
        kinds = shapely.get_type_id(shapes)
        points = (kinds == 0) & ~shapely.is_empty(shapes)
        polygons = np.isin(kinds, (3, 6)) & ~shapely.is_empty(shapes)
        if footprints:
            polygons &= shapely.is_valid(shapes)
        else:
            polygons[:] = False
        located = np.full(self.n, None, dtype=object)
        located[points] = shapes[points]
        located[polygons] = shapely.point_on_surface(shapes[polygons])
        lon = np.full(self.n, np.nan)
        lat = np.full(self.n, np.nan)
        has = points | polygons
        lon[has], lat[has] = shapely.get_x(located[has]), shapely.get_y(located[has])
        inside = (lon >= LON_RANGE[0]) & (lon <= LON_RANGE[1])
        inside &= (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
        self.ok &= has & inside
        self.values["lon"], self.values["lat"] = lon, lat
        if footprints:
            # Stored as a MultiPolygon: ST_Multi in the insert (grids.sql.places).
            wkt = np.full(self.n, None, dtype=object)
            wkt[polygons] = shapely.to_wkt(shapes[polygons], rounding_precision=-1)
            self.values["footprint"] = wkt

    def frame(self, columns) -> pd.DataFrame:
        """The rows passing every check, as the staged columns."""
        values = {"row": self.read.rows, **self.values}
        return pd.DataFrame({name: values[name] for name in columns})[self.ok]
