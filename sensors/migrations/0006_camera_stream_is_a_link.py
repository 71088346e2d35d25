"""The built-in camera type's `stream` property becomes a link (`format: uri`), which the
registry accepts only as http, https or rtsp (#15: `javascript:` was rendered as a link).
A type an operator has edited keeps its own schema."""

from django.db import migrations

BEFORE = {"type": "string", "maxLength": 500}
AFTER = {"type": "string", "format": "uri", "maxLength": 500}


def _set(apps, old: dict, new: dict) -> None:
    SensorType = apps.get_model("sensors", "SensorType")
    for sensor_type in SensorType.objects.filter(code="camera", builtin=True):
        properties = (sensor_type.properties_schema or {}).get("properties") or {}
        if properties.get("stream") == old:
            properties["stream"] = dict(new)
            sensor_type.save(update_fields=["properties_schema"])


def forward(apps, schema_editor):
    _set(apps, BEFORE, AFTER)


def backward(apps, schema_editor):
    _set(apps, AFTER, BEFORE)


class Migration(migrations.Migration):
    dependencies = [("sensors", "0005_readings_brin_autosummarize")]

    operations = [migrations.RunPython(forward, backward)]
