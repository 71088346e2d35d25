"""The built-in sensor types and the incident categories camera analytics alerts become, as
data. Seeded by migration 0003 and again by the demo; get_or_create by code, so an
operator's edits are kept.

Property schemas are JSON Schema (draft 2020-12): a district adds a type with its own
schema in the admin or the API and the same validator checks it. Angles are degrees
clockwise from north, distances metres.
"""

from incidents.catalogue import HAZARD

NUMBER = "number"


def _object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


CAMERA_PROPERTIES = _object(
    {
        "bearing": {"type": NUMBER, "minimum": 0, "maximum": 360, "description": "°"},
        "fov": {"type": NUMBER, "exclusiveMinimum": 0, "maximum": 360, "description": "°"},
        "range": {"type": NUMBER, "exclusiveMinimum": 0, "maximum": 10000, "description": "m"},
        "ptz": {"type": "boolean"},
        "height": {"type": NUMBER, "minimum": 0, "maximum": 300, "description": "m"},
        # A link the fire panel renders: http(s) or rtsp only (sensors.services.registry).
        "stream": {"type": "string", "format": "uri", "maxLength": 500},
    },
    ("bearing", "fov", "range"),
)
POLE_PROPERTIES = _object(
    {
        "broadcast_radius": {
            "type": NUMBER,
            "exclusiveMinimum": 0,
            "maximum": 5000,
            "description": "m",
        },
        "speakers": {"type": "integer", "minimum": 1, "maximum": 16},
        "talkback": {"type": "boolean"},
    },
    ("broadcast_radius",),
)
TANK_PROPERTIES = _object(
    {
        "capacity_m3": {"type": NUMBER, "exclusiveMinimum": 0, "maximum": 100000},
        "level_pct": {"type": NUMBER, "minimum": 0, "maximum": 100},
        "access": {"type": "string", "maxLength": 200},
    },
    ("capacity_m3",),
)
DETECTOR_PROPERTIES = _object(
    {"battery_pct": {"type": NUMBER, "minimum": 0, "maximum": 100}},
)

TYPES = [
    # code, name, role, properties, readings, symbol, colour
    (
        "camera",
        "视频监控",
        "camera",
        CAMERA_PROPERTIES,
        _object({"online": {"type": "boolean"}}),
        "📷",
        "#1f6feb",
    ),
    (
        "voice_pole",
        "语音广播杆",
        "voice_pole",
        POLE_PROPERTIES,
        _object({"volume": {"type": NUMBER, "minimum": 0, "maximum": 100}}),
        "📢",
        "#8250df",
    ),
    (
        "water_tank",
        "消防水池",
        "water_tank",
        TANK_PROPERTIES,
        _object({"level_pct": {"type": NUMBER, "minimum": 0, "maximum": 100}}),
        "💧",
        "#0a9396",
    ),
    (
        "smoke_detector",
        "烟感探测器",
        "detector",
        DETECTOR_PROPERTIES,
        _object(
            {
                "smoke": {"type": "boolean"},
                "battery_pct": {"type": NUMBER, "minimum": 0, "maximum": 100},
            }
        ),
        "🔥",
        "#d1495b",
    ),
    (
        "temp_humidity",
        "温湿度传感器",
        "detector",
        DETECTOR_PROPERTIES,
        _object(
            {
                "temperature_c": {"type": NUMBER, "minimum": -60, "maximum": 90},
                "humidity_pct": {"type": NUMBER, "minimum": 0, "maximum": 100},
            }
        ),
        "🌡",
        "#e9a23b",
    ),
]

# Analytics alert kind -> the incident category it becomes (code, name, parent).
ALERT_CATEGORIES = {
    "smoke_fire": ("060601", "烟火告警", "06"),
    "thrown_object": ("060201", "高空抛物", "06"),
    "crowd": ("060701", "人员聚集", "06"),
    "fire_lane_blocked": ("060101", "消防通道堵塞", "06"),
    "wall_climbing": ("060801", "翻越围墙", "06"),
}


def seed(SensorType, Category) -> None:
    for code, name, role, properties, readings, symbol, colour in TYPES:
        SensorType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "role": role,
                "properties_schema": properties,
                "readings_schema": readings,
                "symbol": symbol,
                "colour": colour,
                "builtin": True,
            },
        )
    for code, name, parent in ALERT_CATEGORIES.values():
        Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": Category.objects.filter(code=parent).first(),
                "deadlines": HAZARD,
                "escalate_when_overdue": True,
            },
        )
