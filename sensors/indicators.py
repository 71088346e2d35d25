"""Sensor figures as derived indicators of 一表通 (reports.derived), per grid: devices of each
built-in type, the share of devices online, the share of the grid a camera sees.

Devices are counted on the grid stored on them, installed on or before the day the stock is
read (a device with no install date counts); for a day before a boundary change, on the grid
their point lay in by the boundaries valid that day. Devices removed from the registry leave no
trace, so a past period counts only those still registered. Status and camera coverage keep
no history: the online share and the coverage share are given for the current period only;
a past period has no value for them (not a wrong one). They are in the group 基层治理
(`governance`), which sync_derived creates.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from grids import sql as grids_sql
from reports.derived import Context, register
from sensors.models import Sensor, Status
from sensors.services import coverage
from sensors.sql import grids as sensors_sql


def _installed(context: Context) -> Q:
    return Q(grid__in=context.grid_ids) & (
        Q(installed_on__isnull=True) | Q(installed_on__lte=context.on)
    )


def _boundaries_changed_since(context: Context) -> bool:
    """Whether a grid boundary changed after the day the stock is read: the stored grid of a
    device is today's, so that day's stock is counted by point against the boundaries valid
    then (sensors keep no grid history; their points and these versions are the history)."""
    return context.on < timezone.localdate() and bool(
        grids_sql.boundary_change_dates(context.on, timezone.localdate())
    )


def _counted(context: Context) -> dict[str, dict[int, int]]:
    """{role or type code: {grid id: devices}}, one query shared by the derivations below.
    Cameras, poles and tanks are counted by role (a district's own thermal camera is a
    camera); detectors by their built-in type."""

    def load():
        if _boundaries_changed_since(context):
            rows = sensors_sql.stock_on(context.on, context.grid_ids)
        else:
            rows = (
                Sensor.objects.filter(_installed(context))
                .order_by()
                .values_list("grid_id", "role", "type__code")
                .annotate(n=Count("pk"))
            )
        counts: dict[str, dict[int, int]] = {}
        for grid_id, role, type_code, n in rows:
            for key in {role, type_code}:
                per_grid = counts.setdefault(key, {})
                per_grid[grid_id] = per_grid.get(grid_id, 0) + n
        return counts

    return context.once(f"sensors_counted:{context.on}", load)


# role or type code, indicator code, name, unit, aliases
_COUNTED = [
    ("camera", "SAFE_CAMERAS", "视频监控数", "个", ("摄像头数", "监控点位数", "视频监控点位数")),
    ("voice_pole", "SAFE_VOICE_POLES", "语音广播杆数", "根", ("广播杆数", "应急广播点位数")),
    ("water_tank", "SAFE_WATER_TANKS", "消防水池数", "个", ("消防水池数量", "消防蓄水池数")),
    ("smoke_detector", "SAFE_SMOKE_DETECTORS", "烟感探测器数", "个", ("烟感数", "烟雾报警器数")),
    (
        "temp_humidity",
        "SAFE_TEMP_HUMIDITY",
        "温湿度传感器数",
        "个",
        ("温湿度监测点数", "温湿度计数"),
    ),
]


def _count_derivation(key: str, code: str, name: str, unit: str, aliases) -> None:
    def compute(context: Context):
        return _counted(context).get(key, {})

    register(
        key=f"sensors_{key}",
        code=code,
        name=name,
        unit=unit,
        group="governance",
        aliases=tuple(aliases),
        description=f"Sensors ({key}) in the grid, installed by the day the stock is read.",
    )(compute)


for _key, _code, _name, _unit, _aliases in _COUNTED:
    _count_derivation(_key, _code, _name, _unit, _aliases)


def _current(context: Context) -> bool:
    return context.on >= timezone.localdate()


@register(
    key="sensors_online_share",
    code="SAFE_SENSORS_ONLINE",
    name="感知设备在线率",
    unit="%",
    group="governance",
    value_type="percentage",
    aggregation="mean",
    counts=False,
    aliases=("设备在线率", "物联感知设备在线率", "监控在线率"),
    description=(
        "Share of the grid's sensors (any type, installed by today) whose status is online "
        "now; the current period only (status keeps no history). Up the tree: the mean of "
        "the grids' shares."
    ),
)
def sensors_online_share(context: Context):
    if not _current(context):
        return {}
    rows = (
        Sensor.objects.filter(_installed(context))
        .order_by()
        .values("grid_id")
        .annotate(n=Count("pk"), online=Count("pk", filter=Q(status=Status.ONLINE)))
        .values_list("grid_id", "n", "online")
    )
    return {pk: round(100 * online / n, 1) for pk, n, online in rows if n}


@register(
    key="camera_coverage_share",
    code="SAFE_CAMERA_COVERAGE",
    name="视频监控覆盖率",
    unit="%",
    group="governance",
    value_type="percentage",
    aggregation="mean",
    counts=False,
    aliases=("监控覆盖率", "视频覆盖率", "视频监控覆盖面积比例"),
    description=(
        "Share of the grid's area inside at least one camera's view sector (sensors."
        "GridCoverage, terrain not modelled); the current period only. Up the tree: the mean "
        "of the grids' shares."
    ),
)
def camera_coverage_share(context: Context):
    if not _current(context):
        return {}
    return {pk: round(100 * share, 1) for pk, share in coverage.figures(context.grid_ids).items()}
