"""Which GDAL and GEOS the process loads.

Debian 12 ships GDAL 3.6, which Django flags (gis.W001) because it cannot block malicious
spatial references. pyogrio's wheel bundles a current libgdal (3.12) and shapely's wheel a
current libgeos_c; loading those through ``GDAL_LIBRARY_PATH`` / ``GEOS_LIBRARY_PATH`` leaves
one GDAL and one GEOS in the process, shared by Django, geopandas and shapely, so geometries
move between them without a second copy of the libraries and their bugs.
See docs/architecture.md ("GDAL and GEOS") for the measurement.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from pathlib import Path


def _bundled(package: str, pattern: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    libs = Path(spec.origin).parent.parent / f"{package}.libs"
    found = sorted(glob.glob(str(libs / pattern)))
    return found[0] if found else None


def gdal_library_path() -> str | None:
    """The environment wins; otherwise pyogrio's bundled libgdal; otherwise Django's search."""
    if os.environ.get("GDAL_LIBRARY_PATH"):
        return os.environ["GDAL_LIBRARY_PATH"]
    path = _bundled("pyogrio", "libgdal-*.so*")
    if path:
        # Importing pyogrio points the bundled libgdal at its own gdal_data and proj_data
        # (OSRSetPROJSearchPaths); Django then dlopens the same file and shares that set-up.
        import pyogrio  # noqa: F401
    return path


def geos_library_path() -> str | None:
    if os.environ.get("GEOS_LIBRARY_PATH"):
        return os.environ["GEOS_LIBRARY_PATH"]
    return _bundled("shapely", "libgeos_c-*.so*")
