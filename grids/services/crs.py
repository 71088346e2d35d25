"""Coordinates as they arrive in China, converted to the WGS84 we store (decision 9).

EPSG codes (WGS84, CGCS2000 = EPSG:4490, Gauss-Krüger zones ...) go through PROJ. GCJ-02 (the
"Mars" offset of Gaode / Tencent maps) and BD-09 (Baidu's further offset) are not EPSG
systems: they are published obfuscation formulas, inverted here by fixed-point iteration to
well under a centimetre.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyproj import CRS, Transformer

WGS84 = "EPSG:4326"
GCJ02 = "GCJ-02"
BD09 = "BD-09"
OFFSET_SYSTEMS = {GCJ02, BD09}
# Spellings people use, compared without case, spaces, hyphens, underscores and dots.
ALIASES = {
    **dict.fromkeys(["WGS84", "4326", "EPSG4326", "WGS1984", "GPS", "WGS84经纬度"], WGS84),
    **dict.fromkeys(
        ["CGCS2000", "4490", "EPSG4490", "CGCS", "2000国家大地坐标系", "国家2000", "2000坐标系"],
        "EPSG:4490",
    ),
    **dict.fromkeys(
        ["GCJ02", "GCJ", "火星坐标", "火星坐标系", "国测局坐标", "国测局坐标系", "高德", "腾讯"],
        GCJ02,
    ),
    **dict.fromkeys(["BD09", "BD09LL", "BD", "BAIDU", "百度", "百度坐标", "百度坐标系"], BD09),
}
# Lazy: worded in the language of whoever reads it (a command's --help, an API answer).
SPELLINGS = gettext_lazy(
    "an EPSG code (e.g. EPSG:4545), WGS84, CGCS2000 (2000国家大地坐标系, EPSG:4490), "
    "GCJ-02 (gcj, 火星坐标) or BD-09 (baidu, 百度)"
)

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


class UnknownCRS(ValueError):
    pass


def _alias_key(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch not in " -_.:")


def normalise(crs: str | None) -> str | None:
    """'cgcs2000', 'EPSG:4490', '4490', '2000国家大地坐标系' all mean one thing, as do 'gcj02',
    'gcj-02', '火星坐标'; None stays None. An unknown name is UnknownCRS, a one-line reason."""
    if crs is None or str(crs).strip() == "":
        return None
    text = str(crs).strip()
    key = _alias_key(text)
    if key in ALIASES:
        return ALIASES[key]
    digits = key.removeprefix("EPSG")
    candidate = f"EPSG:{digits}" if digits.isdigit() else text
    try:
        CRS.from_user_input(candidate)
    except Exception:  # pyproj raises CRSError, a plain Exception subclass
        raise UnknownCRS(
            _("unknown coordinate system '%(crs)s'; use %(spellings)s")
            % {"crs": crs, "spellings": SPELLINGS}
        ) from None
    return candidate


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 8):
    """Invert the GCJ-02 offset: find w with gcj(w) = g by fixed-point iteration."""
    g_lon, g_lat = np.asarray(lon, float), np.asarray(lat, float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _step in range(iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        w_lon, w_lat = w_lon + (g_lon - f_lon), w_lat + (g_lat - f_lat)
    return w_lon, w_lat


def gcj02_to_bd09(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, iterations: int = 3):
    """Baidu's published inverse is approximate (~4 cm); a few corrections make it exact."""
    b_lon, b_lat = np.asarray(lon, float), np.asarray(lat, float)
    x, y = b_lon - 0.0065, b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _step in range(iterations):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        g_lon, g_lat = g_lon + (b_lon - f_lon), g_lat + (b_lat - f_lat)
    return g_lon, g_lat


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _coords_to_wgs84(source: str):
    if source == GCJ02:
        convert = gcj02_to_wgs84
    elif source == BD09:
        convert = bd09_to_wgs84
    else:
        transformer = Transformer.from_crs(source, WGS84, always_xy=True)
        return lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    return lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1]))


def geometries_to_wgs84(geoms: np.ndarray, source: str) -> np.ndarray:
    """Convert an array of shapely geometries from `source` to WGS84 lon/lat, vectorised."""
    if source == WGS84:
        return geoms
    return shapely.transform(geoms, _coords_to_wgs84(source))


def point_to_wgs84(lon: float, lat: float, source: str) -> tuple[float, float]:
    if source == WGS84:
        return lon, lat
    point = geometries_to_wgs84(np.array([shapely.Point(lon, lat)], dtype=object), source)[0]
    return point.x, point.y


def local_metric_crs(lon: float, lat: float) -> CRS:
    """A transverse Mercator centred on the area, for distances and buffers in metres."""
    return CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat:.6f} +lon_0={lon:.6f} +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    )
