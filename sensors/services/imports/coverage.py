"""The coverage outlines of many imported devices at once."""

from __future__ import annotations

import numpy as np
import shapely

from sensors.models import Role
from sensors.services.registry import ARC_STEP_DEGREES, CIRCLE_VERTICES, GEOD


def coverage_hex(roles, lon, lat, props: list[dict]) -> np.ndarray:
    """Each device's coverage as hex EWKB (None for roles without one): the same sector and
    circle outlines as registry.coverage_for, computed with one Geod call per shape size."""
    n = len(roles)
    out = np.full(n, None, dtype=object)
    rings: dict[int, tuple[list[int], list]] = {}  # vertex count -> (indexes, azimuths/ranges)
    for i in range(n):
        p = props[i]
        if roles[i] == Role.CAMERA:
            bearing, fov, reach = float(p["bearing"]), float(p["fov"]), float(p["range"])
            if fov >= 360:
                azimuths = np.linspace(0, 360, CIRCLE_VERTICES, endpoint=False)
                key = -CIRCLE_VERTICES
            else:
                steps = max(2, int(np.ceil(fov / ARC_STEP_DEGREES)) + 1)
                azimuths = np.linspace(bearing - fov / 2, bearing + fov / 2, steps)
                key = steps
        elif roles[i] == Role.VOICE_POLE:
            reach = float(p["broadcast_radius"])
            azimuths = np.linspace(0, 360, CIRCLE_VERTICES, endpoint=False)
            key = -CIRCLE_VERTICES
        else:
            continue
        indexes, rows = rings.setdefault(key, ([], []))
        indexes.append(i)
        rows.append((azimuths, reach))
    for key, (indexes, rows) in rings.items():
        idx = np.asarray(indexes)
        azimuths = np.vstack([a for a, _r in rows])
        reach = np.repeat(np.array([r for _a, r in rows])[:, None], azimuths.shape[1], axis=1)
        x = np.repeat(lon[idx][:, None], azimuths.shape[1], axis=1)
        y = np.repeat(lat[idx][:, None], azimuths.shape[1], axis=1)
        ex, ey, _back = GEOD.fwd(x, y, azimuths, reach)
        if key < 0:  # a circle: closed on its first vertex
            xs = np.hstack([ex, ex[:, :1]])
            ys = np.hstack([ey, ey[:, :1]])
        else:  # a sector: from the device round the arc and back
            xs = np.hstack([lon[idx][:, None], ex, lon[idx][:, None]])
            ys = np.hstack([lat[idx][:, None], ey, lat[idx][:, None]])
        polygons = shapely.polygons(np.stack([xs, ys], axis=-1))
        polygons = shapely.set_srid(polygons, 4326)
        out[idx] = shapely.to_wkb(polygons, hex=True, include_srid=True)
    return out
