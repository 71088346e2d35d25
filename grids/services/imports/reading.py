"""Reading the files people have: Shapefile (UTF-8 or GBK attributes, with or without a
.cpg, loose or zipped), GeoPackage, GeoJSON, KML, FlatGeobuf, and CSV/XLSX tables.

A file that cannot be read as asked (an unknown or wrong encoding, a multi-layer file
without --layer, a layer it does not have) is one problem naming the file and what to do,
never a traceback."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyogrio
from django.utils.translation import gettext as _

from grids.problems import Problem
from grids.services.imports import shapefiles
from grids.services.imports.options import api_parameters
from grids.services.imports.report import ImportReport

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".zip", ".fgb"}
TABLE_SUFFIXES = {".csv", ".xlsx", ".xls"}
ENCODING_EXAMPLES = "UTF-8, GBK, GB18030"


class Unreadable(pyogrio.errors.DataSourceError):
    """The file cannot be read as asked; the message says why and what to do. A
    DataSourceError, so that callers catching the reader's errors catch this one too. `code`
    is the problem code callers report it under."""

    def __init__(self, message: str, code: str = "unreadable"):
        super().__init__(message)
        self.code = code


def check_encoding(encoding: str | None) -> str | None:
    """The encoding as Python names it, or Unreadable for a name no codec has."""
    if not encoding:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        api = api_parameters()
        if api is None:
            message = _(
                "unknown encoding '%(encoding)s'; use one such as %(examples)s, or leave "
                "--encoding out to detect it"
            )
        else:
            message = _(
                "unknown encoding '%(encoding)s'; use one such as %(examples)s, or leave "
                "the field %(parameter)s empty to detect it"
            )
        raise Unreadable(
            message
            % {
                "encoding": encoding,
                "examples": ENCODING_EXAMPLES,
                "parameter": api and api.encoding,
            }
        ) from None


def dbf_encoding(dbf: bytes) -> str | None:
    """GDAL honours a .cpg or the .dbf's language driver byte; without either it would read
    GBK (the usual encoding of Chinese shapefiles) as Latin-1. Try UTF-8 strictly, then GBK
    (as its superset GB18030)."""
    if len(dbf) > 29 and dbf[29] != 0:
        return None
    try:
        dbf[32:].decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def shapefile_encoding(path: Path) -> str | None:
    if _sibling(path, ".cpg") is not None:
        return None
    dbf = _sibling(path, ".dbf")
    return dbf_encoding(dbf.read_bytes()) if dbf is not None else None


def zipped_shapefiles(path: Path) -> list[str]:
    """The shapefiles in a zip (members ending .shp, in folders or not); [] for none or a
    file that is no zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist() if n.lower().endswith(".shp")]
    except (zipfile.BadZipFile, OSError):
        return []


def zipped_shapefile_encoding(path: Path, member: str) -> str | None:
    """As shapefile_encoding, for a shapefile in a zip."""
    stem = member[:-4]
    try:
        with zipfile.ZipFile(path) as archive:
            lower = {name.lower(): name for name in archive.namelist()}
            if f"{stem}.cpg".lower() in lower:
                return None
            dbf = lower.get(f"{stem}.dbf".lower())
            return dbf_encoding(archive.read(dbf)) if dbf else None
    except (zipfile.BadZipFile, OSError, KeyError):
        return None  # GDAL says what is wrong with the file when it reads it


def layers_of(path: Path) -> list[str]:
    return [str(name) for name, _geometry_type in pyogrio.list_layers(path)]


def choose_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: the one asked for, or the only one. A file of several layers is
    refused without --layer (taking the first would silently import the wrong one)."""
    try:
        layers = layers_of(path)
    except (pyogrio.errors.DataSourceError, OSError):
        return layer  # unreadable: read_vector reports it
    listed = ", ".join(layers)
    if layer is not None:
        if layer not in layers:
            raise Unreadable(_no_layer(path, layer, listed))
        return layer
    if len(layers) > 1:
        raise Unreadable(_several(path, len(layers), listed, zipped=False))
    return layers[0] if layers else None


def _several(path: Path, n: int, listed: str, *, zipped: bool) -> str:
    """Several layers (or shapefiles in a zip) and none chosen, with the option to choose."""
    values = {"file": path.name, "n": n, "layers": listed}
    api = api_parameters()
    if api is not None:
        values["parameter"] = api.layer
        if zipped:
            message = _(
                "%(file)s has %(n)d shapefiles; choose one with the field %(parameter)s: %(layers)s"
            )
        else:
            message = _(
                "%(file)s has %(n)d layers; choose one with the field %(parameter)s: %(layers)s"
            )
    elif zipped:
        message = _("%(file)s has %(n)d shapefiles; choose one with --layer: %(layers)s")
    else:
        message = _("%(file)s has %(n)d layers; choose one with --layer: %(layers)s")
    return message % values


def _no_layer(path: Path, layer: str, listed: str) -> str:
    return _("%(file)s has no layer '%(layer)s'; its layers are: %(layers)s") % {
        "file": path.name,
        "layer": layer,
        "layers": listed,
    }


def _wrong_encoding(path: Path, encoding: str | None, exc: Exception) -> Unreadable:
    values = {"file": path.name, "encoding": encoding, "reason": exc, "examples": ENCODING_EXAMPLES}
    api = api_parameters()
    if api is not None:
        values["parameter"] = api.encoding
        if api.encoding is None:
            message = _(
                "cannot read the attributes of %(file)s (%(reason)s); save the file again "
                "as UTF-8 or with its .cpg file"
            )
        elif encoding:
            message = _(
                "cannot read the attributes of %(file)s as %(encoding)s (%(reason)s); give "
                "the file's encoding in the field %(parameter)s (e.g. %(examples)s), or "
                "leave it empty to detect it"
            )
        else:
            message = _(
                "cannot read the attributes of %(file)s in the detected encoding "
                "(%(reason)s); give the file's encoding in the field %(parameter)s (e.g. "
                "%(examples)s)"
            )
        return Unreadable(message % values)
    if encoding:
        message = _(
            "cannot read the attributes of %(file)s as %(encoding)s (%(reason)s); pass the "
            "file's encoding with --encoding (e.g. %(examples)s), or leave --encoding out to "
            "detect it"
        )
    else:
        message = _(
            "cannot read the attributes of %(file)s in the detected encoding (%(reason)s); "
            "pass the file's encoding with --encoding (e.g. %(examples)s), or leave "
            "--encoding out to detect it"
        )
    return Unreadable(message % values)


def _zipped_source(path: Path, layer: str | None):
    """(what GDAL opens, the layer, the encoding, the shapefile member or None) for a zip of
    shapefiles: the shapefile itself inside the zip (GDAL does not look into a zip's
    folders), chosen as layers are."""
    members = zipped_shapefiles(path)
    if not members:
        return path, choose_layer(path, layer), None, None
    stems = [Path(m).stem for m in members]
    listed = ", ".join(stems)
    if layer is not None:
        if layer not in stems:
            raise Unreadable(_no_layer(path, layer, listed))
        member = members[stems.index(layer)]
    elif len(members) > 1:
        raise Unreadable(_several(path, len(members), listed, zipped=True))
    else:
        member = members[0]
    return f"/vsizip/{path}/{member}", None, zipped_shapefile_encoding(path, member), member


def _check_text(frame) -> None:
    """Arrow checks text against the encoding only when a column is first converted: do it
    now, so that a wrong encoding is a reading problem and not a traceback later."""
    for name in frame.columns:
        if name != "geometry" and not pd.api.types.is_numeric_dtype(frame[name].dtype):
            frame[name].to_numpy()


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None):
    """A GeoDataFrame from any vector format GDAL reads; its CRS may be None."""
    path = Path(path)
    encoding = check_encoding(encoding)
    source, detected, shapes = path, None, None
    try:
        if path.suffix.lower() == ".zip":
            source, layer, detected, member = _zipped_source(path, layer)
            if member is not None:
                # Before GDAL, which reads parts that disagree without a word.
                shapes = shapefiles.check(shapefiles.zipped_parts(path, member))
        else:
            if path.suffix.lower() == ".shp" and path.is_file():
                shapes = shapefiles.check(shapefiles.loose_parts(path))
            layer = choose_layer(path, layer)
            if path.suffix.lower() == ".shp":
                detected = shapefile_encoding(path)
    except shapefiles.ShapefileBroken as exc:
        raise Unreadable(str(exc), code=exc.code) from exc
    encoding = encoding or detected
    kwargs = {}
    if layer:
        kwargs["layer"] = layer
    if encoding:
        kwargs["encoding"] = encoding
    try:
        # Through Arrow: columns arrive as arrays, several times faster than row by row.
        frame = pyogrio.read_dataframe(source, use_arrow=True, **kwargs)
        _check_text(frame)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        # Arrow refuses text that is not valid in the encoding it was told.
        raise _wrong_encoding(path, encoding, exc) from exc
    if shapes is not None and len(frame) != shapes:
        broken = shapefiles.read_mismatch(path.name, len(frame), shapes)
        raise Unreadable(str(broken), code=broken.code)
    return frame


def read_table(path: Path, *, layer: str | None = None, encoding: str | None = None):
    path = Path(path)
    encoding = check_encoding(encoding)
    if path.suffix.lower() == ".csv":
        try:
            return pd.read_csv(
                path, dtype=str, encoding=encoding or "utf-8-sig", keep_default_na=False
            )
        except UnicodeDecodeError as exc:
            if encoding:
                raise _wrong_encoding(path, encoding, exc) from exc
            return pd.read_csv(path, dtype=str, encoding="gb18030", keep_default_na=False)
    if layer is not None:
        sheets = pd.ExcelFile(path).sheet_names
        if layer not in sheets:
            raise Unreadable(
                _("%(file)s has no sheet '%(sheet)s'; its sheets are: %(sheets)s")
                % {"file": path.name, "sheet": layer, "sheets": ", ".join(map(str, sheets))}
            )
    return pd.read_excel(path, sheet_name=layer or 0, dtype=str).fillna("")


def read_file(path: Path, *, layer: str | None, encoding: str | None, report: ImportReport):
    """A vector file as a GeoDataFrame, or None with the reason in the report."""
    try:
        return read_vector(path, layer=layer, encoding=encoding)
    except Unreadable as exc:
        report.problems.append(Problem(exc.code, str(exc), field="file"))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        report.problems.append(Problem("unreadable", _cannot_read(path, exc)))
    return None


def _cannot_read(path: Path, exc: Exception) -> str:
    return _("cannot read %(file)s: %(reason)s") % {"file": path.name, "reason": exc}


def read_points(path: Path, *, layer: str | None, encoding: str | None, report: ImportReport):
    """A point file: (frame, is_table), a table being CSV/XLSX with lon/lat columns; None
    when it cannot be read, with the reason added to the report."""
    path = Path(path)
    is_table = path.suffix.lower() in TABLE_SUFFIXES
    try:
        frame = (read_table if is_table else read_vector)(path, layer=layer, encoding=encoding)
    except Unreadable as exc:
        report.problems.append(Problem(exc.code, str(exc), field="file"))
        return None
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
        ValueError,
    ) as exc:
        report.problems.append(Problem("unreadable", _cannot_read(path, exc)))
        return None
    return frame, is_table
